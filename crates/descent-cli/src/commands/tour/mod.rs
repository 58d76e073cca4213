//! `descent tour`: the classic lessons of gradient descent replayed on built-in data, in
//! order. Each lesson prints a few plain sentences and writes its figures; `index.html` then
//! shows every lesson with its figures (PNG and GIF files beside it, so it opens in any
//! browser with no network).
//!
//! Lessons 1–6 (search, batch / stochastic / mini-batch descent, learning rates) are in
//! [`basics`]; 7–13 (optimizers, averages, scaling, derivatives, Newton, saddles, the normal
//! equation) in [`methods`]; 14–16 (fixed-step sign descent, local minima, the derivative by
//! its definition) in [`extra`]; 17–18 (every optimizer's update rule, momentum's optimal
//! settings) in [`rules`]. `--lesson N` runs lesson N alone and writes the same files. The
//! page is written by [`page`].

mod basics;
mod extra;
mod methods;
mod page;
mod rules;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Result};

use crate::fsutil::{create_dir, write_atomic};
use crate::plot::{field_around, save_both, ContourChart, Figure, Marker, Path2d};
use crate::prep::{scalar_names, Prepared};
use crate::viz_args::TourArgs;

/// Every lesson in page order: lesson N is `LESSONS[N - 1]`. Each starts with
/// [`Tour::lesson`] and depends on nothing another lesson computed, so any one of them can
/// be run alone (`--lesson N`) and writes the same files.
const LESSONS: [fn(&mut Tour) -> Result<()>; 18] = [
    basics::brute_force,
    basics::batch,
    basics::stochastic,
    basics::mini_batch,
    basics::too_large,
    basics::decay,
    methods::optimizers,
    methods::moving_average,
    methods::scaling,
    methods::derivatives,
    methods::newton,
    methods::saddle,
    methods::closed_form,
    extra::sign_descent,
    extra::local_minima,
    extra::by_definition,
    rules::update_rules_lesson,
    rules::momentum_tuning,
];

pub fn run(args: TourArgs) -> Result<ExitCode> {
    let started = Instant::now();
    if let Some(&bad) = args.lesson.iter().find(|&&n| n == 0 || n > LESSONS.len()) {
        bail!(
            "--lesson {bad}: the tour has lessons 1 to {}",
            LESSONS.len()
        );
    }
    create_dir(&args.out)?;
    let mut tour = Tour {
        out: args.out.clone(),
        lessons: Vec::new(),
        next: 1,
    };
    for (i, lesson) in LESSONS.iter().enumerate() {
        let number = i + 1;
        if args.lesson.is_empty() || args.lesson.contains(&number) {
            tour.next = number;
            lesson(&mut tour)?;
            tour.command(&format!("descent tour --lesson {number}"));
        }
    }
    // A selection gets its own page, so that the whole tour's index.html is never replaced
    // by a part of it.
    let page = if args.lesson.is_empty() {
        "index.html".to_string()
    } else {
        let numbers: Vec<String> = tour
            .lessons
            .iter()
            .map(|l| format!("{:02}", l.number))
            .collect();
        format!("lesson{}.html", numbers.join("-"))
    };
    write_atomic(&tour.out.join(&page), tour.html().as_bytes())?;
    println!(
        "\nwrote {} lessons and {page} in {} ({:.1} s)",
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
    /// The number of the next lesson to start.
    next: usize,
}

/// One lesson: its title, the sentences it printed, its figures (file names in `out`, each
/// with its caption), the update rules it shows (MathML) and the commands that reproduce it.
pub struct Lesson {
    number: usize,
    title: String,
    text: Vec<String>,
    figures: Vec<(String, String)>,
    maths: Vec<(String, String)>,
    commands: Vec<String>,
    /// The caption of the next figure.
    pending: Option<String>,
}

impl Lesson {
    fn push_figure(&mut self, file: String) {
        let caption = self
            .pending
            .take()
            .unwrap_or_else(|| format!("Lesson {}: {}.", self.number, self.title));
        self.figures.push((file, caption));
    }
}

impl Tour {
    /// Starts the next lesson (printing its title).
    pub fn lesson(&mut self, title: &str) -> &mut Lesson {
        let number = self.next;
        println!("\n{number}. {title}");
        self.lessons.push(Lesson {
            number,
            title: title.to_string(),
            text: Vec::new(),
            figures: Vec::new(),
            maths: Vec::new(),
            commands: Vec::new(),
            pending: None,
        });
        self.lessons.last_mut().expect("just pushed")
    }

    pub fn out(&self) -> &Path {
        &self.out
    }

    fn current(&mut self) -> &mut Lesson {
        self.lessons.last_mut().expect("called inside a lesson")
    }

    /// The caption of the current lesson's next figure.
    pub fn caption(&mut self, text: &str) {
        self.current().pending = Some(text.to_string());
    }

    /// A `descent` command line that reproduces (part of) the current lesson.
    pub fn command(&mut self, line: &str) {
        println!("   reproduce: {line}");
        self.current().commands.push(line.to_string());
    }

    /// An update rule of the current lesson: a name and its MathML (`<math>` element).
    pub fn maths(&mut self, name: &str, mathml: &str) {
        self.current()
            .maths
            .push((name.to_string(), mathml.to_string()));
    }

    /// Adds files already written to `out` to the current lesson (PNG and GIF shown; SVG kept
    /// beside them).
    pub fn attach(&mut self, files: &[String]) {
        let lesson = self.current();
        for f in files {
            if !f.ends_with(".svg") {
                lesson.push_figure(f.clone());
            }
        }
    }

    /// Draws `figure` as `lessonNN_STEM.svg` and `.png` and adds it to the current lesson.
    pub fn figure(&mut self, figure: &impl Figure, stem: &str) -> Result<()> {
        let number = self.current().number;
        let [_, png] = save_both(figure, &self.out, &format!("lesson{number:02}_{stem}"))?;
        self.current().push_figure(png);
        Ok(())
    }

    /// Draws the loss of a two-parameter model `(w, b)` over a field around `paths` and the
    /// least-squares optimum `opt`, at equal scale on both axes, with the optimum marked.
    pub fn least_squares_contour(
        &mut self,
        prep: &Prepared,
        title: &str,
        paths: Vec<Path2d>,
        opt: &[f64],
        stem: &str,
    ) -> Result<()> {
        let points: Vec<Vec<f64>> = paths
            .iter()
            .flat_map(|p| p.points.iter().map(|&(w, b)| vec![w, b]))
            .chain(std::iter::once(opt.to_vec()))
            .collect();
        let field = field_around(points.iter(), |w, b| {
            prep.loss_at(&[w, b]).unwrap_or(f64::NAN)
        });
        let names = scalar_names(&prep.model.layout(), &prep.data.feature_names);
        let chart = ContourChart {
            title,
            x_label: &names[0],
            y_label: &names[1],
            field: &field,
            paths,
            markers: vec![Marker {
                name: "least-squares optimum".into(),
                points: vec![(opt[0], opt[1])],
            }],
            dots: Vec::new(),
            boundaries: Vec::new(),
            equal_aspect: true,
            note: None,
            regions: None,
        };
        self.figure(&chart, stem)
    }

    /// The file name for an animation of the current lesson, added to it.
    pub fn animation(&mut self, stem: &str) -> PathBuf {
        let number = self.current().number;
        let name = format!("lesson{number:02}_{stem}.gif");
        self.current().push_figure(name.clone());
        self.out.join(name)
    }

    /// Prints a sentence of the current lesson and keeps it for the report.
    pub fn say(&mut self, sentence: impl Into<String>) {
        let s = sentence.into();
        println!("   {s}");
        self.current().text.push(s);
    }

    fn html(&self) -> String {
        page::html(&self.lessons)
    }
}
