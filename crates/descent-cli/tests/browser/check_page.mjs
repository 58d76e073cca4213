// Opens the tour's index.html in headless Chromium (playwright-core) and checks it as a reader
// would see it: every image loaded (natural width > 0), no console errors or page errors,
// every lesson with a caption and a command, MathML present; writes a full-page screenshot.
// Usage: node check_page.mjs TOUR_DIR SCREENSHOT.png   (CHROMIUM=/path overrides the browser)
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

const [dir, shot] = process.argv.slice(2);
const chromium_path = process.env.CHROMIUM || "/usr/bin/chromium";
if (!existsSync(chromium_path)) {
  console.log(`skipped: no Chromium at ${chromium_path} (apt-get install chromium, or set CHROMIUM)`);
  process.exit(0);
}
const { chromium } = await import("playwright-core");
const browser = await chromium.launch({ executablePath: chromium_path, args: ["--no-sandbox"] });
const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
const errors = [];
page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
page.on("pageerror", (e) => errors.push(String(e)));
page.on("requestfailed", (r) => errors.push(`failed to load ${r.url()}`));
await page.goto(pathToFileURL(resolve(dir, "index.html")).href, { waitUntil: "load" });

let passed = 0, failed = 0;
const check = (ok, what) => {
  if (ok) passed++; else { failed++; console.log(`FAIL: ${what}`); }
};
const images = await page.$$eval("img", (imgs) => imgs.map((i) => [i.getAttribute("src"), i.complete && i.naturalWidth > 0, i.alt]));
check(images.length >= 20, `at least 20 images (${images.length})`);
for (const [src, loaded, alt] of images) {
  check(loaded, `image ${src} loaded`);
  check(alt && alt.length > 10, `image ${src} has alt text`);
}
const lessons = await page.$$eval("section[id^=lesson]", (ss) => ss.map((s) => [s.id, !!s.querySelector("figcaption"), !!s.querySelector("pre.command")]));
check(lessons.length >= 16, `at least 16 lessons (${lessons.length})`);
for (const [id, caption, command] of lessons) {
  check(caption, `${id} has a caption`);
  check(command, `${id} has a command`);
}
const toc = await page.$$eval("nav a", (as) => as.map((a) => a.getAttribute("href")));
for (const href of toc) check((await page.$(href)) !== null, `contents link ${href} has a target`);
check((await page.$$("math")).length >= 5, "MathML update rules");
const widths = await page.$$eval("figure img", (imgs) => [...new Set(imgs.map((i) => Math.round(i.getBoundingClientRect().width)))]);
check(widths.length === 1, `one figure width (${widths})`);
check(errors.length === 0, `no console errors (${errors.join("; ")})`);
await page.screenshot({ path: shot, fullPage: true });
await browser.close();
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
