// The board in a real browser: Debian's Chromium driven by playwright-core, the real
// `descent` binary serving a temporary runs directory. Run: npm ci && npm test (with
// DESCENT_BIN pointing at the binary; SCREENSHOT_DIR names where the screenshots go).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, "../../../..");
const bin = process.env.DESCENT_BIN || join(process.env.CARGO_TARGET_DIR || join(repo, "target"), "release/descent");
const shots = process.env.SCREENSHOT_DIR || join(repo, "docs");
const dir = mkdtempSync(join(tmpdir(), "descent-board-"));
const runs = join(dir, "runs");
let board, browser, page, url;
const children = [];

function train(out, optimizer, ...flags) {
  execFileSync(bin, ["train", "--data", "builtin:classic", "--model", "linear", "--optimizer", optimizer,
    "--batch", "full", "--out", join(runs, out), "-q", ...flags], { cwd: dir });
}

// Polls `f` (in the page) until it returns a truthy value; fails after `ms`.
async function until(f, arg, ms = 30000) {
  const handle = await page.waitForFunction(f, arg, { timeout: ms, polling: 50 });
  return handle.jsonValue();
}

// Pixels of the loss chart's canvas close to `hex`.
function pixelsOf(hex) {
  return page.evaluate((hex) => {
    const c = document.querySelector("#chart-loss canvas");
    if (!c) return 0;
    const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
    const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
    let n = 0;
    for (let i = 0; i < d.length; i += 4) if (Math.abs(d[i] - r) < 40 && Math.abs(d[i + 1] - g) < 40 && Math.abs(d[i + 2] - b) < 40 && d[i + 3] > 200) n++;
    return n;
  }, hex);
}

before(async () => {
  mkdirSync(runs);
  train("sgd-lr0.05", "sgd", "--lr", "0.05", "--epochs", "300");
  train("sgd-lr0.02", "sgd", "--lr", "0.02", "--epochs", "300");
  train("adam-lr0.1", "adam", "--lr", "0.1", "--epochs", "300");
  board = spawn(bin, ["board", runs, "--port", "0"], { stdio: ["ignore", "pipe", "inherit"] });
  children.push(board);
  const line = await new Promise((ok) => createInterface({ input: board.stdout }).once("line", ok));
  url = line.match(/http:\/\/\S+/)[0];
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium", args: ["--no-sandbox"] });
  page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  page.on("pageerror", (e) => { throw e; });
  await page.goto(url);
});

after(async () => {
  await browser?.close();
  for (const c of children) c.kill();
  rmSync(dir, { recursive: true, force: true });
});

test("two selected runs are both drawn", async () => {
  await page.locator('.run[data-run="sgd-lr0.05"]').waitFor();
  await page.click("#select-none");
  await page.click('.run[data-run="sgd-lr0.05"]');
  await page.click('.run[data-run="sgd-lr0.02"]');
  await until(() => +document.querySelector("#chart-loss").dataset.points >= 600);
  const colors = await page.evaluate(() => [...window.Board.state.selected].map((n) => window.Board.state.colors.get(n)));
  assert.equal(colors.length, 2);
  for (const c of colors) assert.ok(await pixelsOf(c) > 100, `the curve in ${c} is drawn`);
  // The config table shows the one setting that differs: the learning rate.
  const rows = await page.locator("#config tr").allInnerTexts();
  assert.ok(rows.some((r) => r.includes("optimizer.options.lr")), rows.join("\n"));
  assert.ok(!rows.some((r) => r.startsWith("epochs")), rows.join("\n"));
});

test("an Adam run shows its effective steps", async () => {
  assert.ok(await page.locator("#chart-eff").isHidden(), "no adaptive run selected: no panel");
  await page.click('.run[data-run="adam-lr0.1"]');
  await until(() => +document.querySelector("#chart-eff").dataset.points >= 5 * 300);
  assert.ok(await page.locator("#chart-eff").isVisible());
  await page.click('.run[data-run="adam-lr0.1"]');
});

test("a run started now appears and its curve grows live", async () => {
  // An MLP with per-sample updates on the diabetes data: long enough to be watched (about
  // 5 s here, 25 of the board's 200 ms polls; with 128,128 it took 1.3 s, and on a busy
  // machine the page once saw only its first and last epochs).
  const live = spawn(bin, ["train", "--data", "builtin:diabetes", "--model", "mlp", "--hidden", "256,256",
    "--scale", "standard", "--scale-target", "standard", "--optimizer", "sgd", "--lr", "0.001", "--batch", "1",
    "--epochs", "60", "--out", join(runs, "live-mlp"), "-q"], { cwd: dir, stdio: "ignore" });
  children.push(live);
  const done = new Promise((ok) => live.on("exit", ok));
  await page.locator('.run[data-run="live-mlp"]').waitFor({ timeout: 30000 });
  await page.click('.run[data-run="live-mlp"]');
  const seen = new Set();
  // Every epoch count the loss panel shows while the run trains.
  let status = "";
  while (status !== "completed") {
    const n = await until((prev) => {
      const li = document.querySelector('.run[data-run="live-mlp"]');
      const n = window.Board.state.data.get("live-mlp")?.m.epoch.length ?? 0;
      return (n !== prev || li.dataset.status === "completed") && [n, li.dataset.status];
    }, seen.size ? Math.max(...seen) : -1, 60000);
    seen.add(n[0]);
    status = n[1];
  }
  assert.equal(await done, 0);
  assert.ok(seen.size >= 3, `the curve grew in steps: ${[...seen]}`);
  assert.equal(Math.max(...seen), 60);
  await until(() => +document.querySelector("#chart-loss").dataset.points >= 660);
});

test("the screenshot of the runs page", async () => {
  await page.selectOption("#xaxis", "epoch");
  await page.click('.run[data-run="adam-lr0.1"]');
  await until(() => +document.querySelector("#chart-eff").dataset.points >= 5 * 300);
  await page.screenshot({ path: join(shots, "board.png") });
});

test("the playground's lr slider redraws the path", async () => {
  await page.click('.tab[data-tab="playground"]');
  await until(() => +document.querySelector("#pg-contour").dataset.draws >= 1);
  const before = await page.evaluate(() => [+document.querySelector("#pg-contour").dataset.draws, document.querySelector("#pg-contour").dataset.end]);
  await page.locator("#pg-lr").fill("-2");
  const afterEnd = await until((d) => {
    const c = document.querySelector("#pg-contour");
    return +c.dataset.draws > d && c.dataset.end;
  }, before[0]);
  assert.notEqual(afterEnd, before[1]);
  // The least-squares marks are on the slider.
  assert.ok((await page.locator("#pg-lr-marks .mark.stable").count()) === 1);
  await page.screenshot({ path: join(shots, "board-playground.png") });
});
