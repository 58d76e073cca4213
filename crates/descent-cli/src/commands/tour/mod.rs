//! `descent tour`: the classic lessons of gradient descent replayed on built-in data, in
//! order. Each lesson prints a few plain sentences and writes its figures; `index.html` then
//! shows every lesson with its figures (PNG and GIF files beside it, so it opens in any
//! browser with no network).
//!
//! Lessons 1–6 (search, batch / stochastic / mini-batch descent, learning rates) are in
//! [`basics`]; 7–13 (optimizers, averages, scaling, derivatives, Newton, saddles, the normal
//! equation) in [`methods`].

mod basics;
mod methods;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Result;

use crate::fsutil::{create_dir, write_atomic};
use crate::plot::{save_both, Figure};
use crate::viz_args::TourArgs;

pub fn run(args: TourArgs) -> Result<ExitCode> {
    let started = Instant::now();
    create_dir(&args.out)?;
    let mut tour = Tour {
        out: args.out.clone(),
        lessons: Vec::new(),
    };
    basics::run(&mut tour)?;
    methods::run(&mut tour)?;
    let html = tour.html();
    write_atomic(&tour.out.join("index.html"), html.as_bytes())?;
    println!(
        "\nwrote {} lessons and index.html in {} ({:.1} s)",
        tour.lessons.len(),
        args.out.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}

/// The lessons so far and where their figures go.
pub struct Tour {
    out: PathBuf,
    lessons: Vec<Lesson>,
}

/// One lesson: its title, the sentences it printed, and its figures (file names in `out`).
pub struct Lesson {
    number: usize,
    title: String,
    text: Vec<String>,
    figures: Vec<String>,
}

impl Tour {
    /// Starts the next lesson (printing its title).
    pub fn lesson(&mut self, title: &str) -> &mut Lesson {
        let number = self.lessons.len() + 1;
        println!("\n{number}. {title}");
        self.lessons.push(Lesson {
            number,
            title: title.to_string(),
            text: Vec::new(),
            figures: Vec::new(),
        });
        self.lessons.last_mut().expect("just pushed")
    }

    pub fn out(&self) -> &Path {
        &self.out
    }

    /// Adds files already written to `out` to the current lesson (PNG and GIF shown; SVG kept
    /// beside them).
    pub fn attach(&mut self, files: &[String]) {
        let lesson = self.lessons.last_mut().expect("files belong to a lesson");
        for f in files {
            if !f.ends_with(".svg") {
                lesson.figures.push(f.clone());
            }
        }
    }

    /// Draws `figure` as `lessonNN_STEM.svg` and `.png` and adds it to the current lesson.
    pub fn figure(&mut self, figure: &impl Figure, stem: &str) -> Result<()> {
        let number = self.lessons.len();
        let [_, png] = save_both(figure, &self.out, &format!("lesson{number:02}_{stem}"))?;
        self.lessons
            .last_mut()
            .expect("a figure belongs to a lesson")
            .figures
            .push(png);
        Ok(())
    }

    /// The file name for an animation of the current lesson, added to it.
    pub fn animation(&mut self, stem: &str) -> PathBuf {
        let number = self.lessons.len();
        let name = format!("lesson{number:02}_{stem}.gif");
        self.lessons
            .last_mut()
            .expect("an animation belongs to a lesson")
            .figures
            .push(name.clone());
        self.out.join(name)
    }

    /// Prints a sentence of the current lesson and keeps it for the report.
    pub fn say(&mut self, sentence: impl Into<String>) {
        let s = sentence.into();
        println!("   {s}");
        self.lessons
            .last_mut()
            .expect("a sentence belongs to a lesson")
            .text
            .push(s);
    }

    fn html(&self) -> String {
        let mut h = String::from(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n\
             <title>descent: a tour of gradient descent</title>\n<style>\n\
             body { font-family: sans-serif; max-width: 960px; margin: 2em auto; color: #222; line-height: 1.45; }\n\
             section { border-top: 1px solid #ddd; padding: 0.5em 0 1.5em; }\n\
             img { max-width: 100%; height: auto; display: block; margin: 0.8em 0; border: 1px solid #eee; }\n\
             p { margin: 0.35em 0; }\n</style></head><body>\n\
             <h1>A tour of gradient descent</h1>\n\
             <p>The classic lessons, replayed by <code>descent tour</code>. Every number below was computed by the descent library in this run.</p>\n",
        );
        for l in &self.lessons {
            let _ = writeln!(
                h,
                "<section id=\"lesson{}\">\n<h2>{}. {}</h2>",
                l.number,
                l.number,
                escape(&l.title)
            );
            for s in &l.text {
                let _ = writeln!(h, "<p>{}</p>", escape(s));
            }
            for f in &l.figures {
                let _ = writeln!(
                    h,
                    "<img src=\"{f}\" alt=\"lesson {}: {}\">",
                    l.number,
                    escape(f)
                );
            }
            h.push_str("</section>\n");
        }
        h.push_str("</body></html>\n");
        h
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
