//! The tour's page, `index.html`: a table of contents, then every lesson with its text, its
//! update rules (MathML, which browsers render natively), its figures with captions (each PNG
//! linked to its SVG) and the command that reproduces it. One file with no scripts and no
//! network: it opens from the file system.

use std::fmt::Write as _;

use super::Lesson;

const STYLE: &str = "\
body { font-family: system-ui, sans-serif; max-width: 940px; margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.5; }
section { border-top: 1px solid #ddd; padding: 0.5em 0 1.5em; }
figure { margin: 1em 0; }
figure img { width: 100%; max-width: 900px; height: auto; display: block; border: 1px solid #eee; }
figcaption { font-size: 0.92em; color: #444; margin-top: 0.3em; }
p { margin: 0.4em 0; }
pre { background: #f5f5f5; padding: 0.5em 0.8em; overflow-x: auto; }
.rule { margin: 0.5em 0; }
.rule math { font-size: 1.15em; }
.rule { overflow-x: auto; }
nav ol { columns: 2; }
";

/// The whole page.
pub fn html(lessons: &[Lesson]) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>descent: a tour of gradient descent</title>\n<style>\n{STYLE}</style></head><body>\n\
         <h1>A tour of gradient descent</h1>\n\
         <p>The classic lessons, replayed by <code>descent tour</code>. Every number below was \
         computed by the descent library in this run; under every lesson are the commands that \
         draw its figures again.</p>\n"
    );
    h.push_str("<nav><h2>Contents</h2><ol>\n");
    for l in lessons {
        let _ = writeln!(
            h,
            "<li><a href=\"#lesson{}\">{}</a></li>",
            l.number,
            escape(&l.title)
        );
    }
    h.push_str("<li><a href=\"#run\">How to run this yourself</a></li>\n</ol></nav>\n");
    for l in lessons {
        let _ = writeln!(
            h,
            "<section id=\"lesson{}\">\n<h2>{}. {}</h2>",
            l.number,
            l.number,
            escape(&l.title)
        );
        for s in &l.text {
            let _ = writeln!(h, "<p>{}</p>", code_spans(&powers(&escape(s))));
        }
        for (name, mathml) in &l.maths {
            let _ = writeln!(
                h,
                "<div class=\"rule\"><b>{}</b>: {mathml}</div>",
                escape(name)
            );
        }
        for (n, (f, caption)) in l.figures.iter().enumerate() {
            let img = format!("<img src=\"{f}\" alt=\"{}\">", escape(caption));
            let linked = match f.strip_suffix(".png") {
                Some(stem) => format!("<a href=\"{stem}.svg\">{img}</a>"),
                None => img,
            };
            let _ = writeln!(
                h,
                "<figure>{linked}<figcaption>Figure {}.{}: {}</figcaption></figure>",
                l.number,
                n + 1,
                escape(caption)
            );
        }
        for c in &l.commands {
            let label = if c.starts_with("descent tour --lesson") {
                "This lesson's figures again, the same files byte for byte"
            } else {
                "Reproduce with the command line (change any flag)"
            };
            let _ = writeln!(
                h,
                "<p>{label}:</p><pre class=\"command\"><code>{}</code></pre>",
                escape(c)
            );
        }
        h.push_str("</section>\n");
    }
    h.push_str(
        "<section id=\"run\">\n<h2>How to run this yourself</h2>\n\
         <p>Build the command once, then run the whole tour (under 15 seconds) or any lesson's \
         command above:</p>\n\
         <pre><code>cargo build --release -p descent-cli\n\
         ./target/release/descent tour --out tour\n</code></pre>\n\
         <p>Every figure is written as PNG and SVG (click a PNG for its SVG); \
         <code>descent train --plot</code> draws the same figures for your own data.</p>\n\
         </section>\n</body></html>\n",
    );
    h
}

pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Text between backticks as `<code>` (an unpaired backtick stays as it is).
fn code_spans(s: &str) -> String {
    let parts: Vec<&str> = s.split('`').collect();
    if parts.len() % 2 == 0 {
        return s.to_string();
    }
    let mut out = String::new();
    for (k, part) in parts.iter().enumerate() {
        if k % 2 == 1 {
            out.push_str("<code>");
            out.push_str(part);
            out.push_str("</code>");
        } else {
            out.push_str(part);
        }
    }
    out
}

/// `41^10` written as 41<sup>10</sup> (digits only on either side).
fn powers(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let digit_before = i > 0 && chars[i - 1].is_ascii_digit();
        let digit_after = chars.get(i + 1).is_some_and(|c| c.is_ascii_digit());
        if chars[i] == '^' && digit_before && digit_after {
            out.push_str("<sup>");
            i += 1;
            while i < chars.len() && chars[i].is_ascii_digit() {
                out.push(chars[i]);
                i += 1;
            }
            out.push_str("</sup>");
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn backticks_are_code() {
        assert_eq!(
            super::code_spans("run `descent tour` or `x`."),
            "run <code>descent tour</code> or <code>x</code>."
        );
        assert_eq!(super::code_spans("one ` only"), "one ` only");
    }

    #[test]
    fn powers_are_superscripts() {
        assert_eq!(
            super::powers("41^10 ≈ 10^16 a^b"),
            "41<sup>10</sup> ≈ 10<sup>16</sup> a^b"
        );
    }
}
