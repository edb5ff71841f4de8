//! `pricer._pricer`: the native half of the Python package (crates/python/README.md).
//! The runner and the command run on a thread of their own with the GIL released; the
//! calling thread hands their progress to Python and checks for signals every 50 ms, so
//! Ctrl-C (a notebook's stop button) stops a run within a second: the runner is asked to
//! stop (`pricer_core::cancel`), ends at its next record, and KeyboardInterrupt is
//! raised. The run folder is then as a killed run leaves it: the next run resumes.

use std::sync::mpsc::{channel, Receiver, RecvTimeoutError, Sender};
use std::sync::Mutex;
use std::time::Duration;

use pricer_pipeline::runner::{Observer, RunOptions, RunReport, StageReport};
use pricer_pipeline::ConfigSource;
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;

pricer_core::global_allocator!();

create_exception!(
    _pricer,
    PricerError,
    PyException,
    "A run or command failed; the message is what the pricer command prints."
);

/// What the worker thread tells the calling one.
enum Event {
    Planned(Vec<String>),
    Starting(String),
    Done(String),
    Finished(anyhow::Result<String>),
}

/// The runner's observer on the worker thread: every event goes to the calling thread.
struct Forward(Sender<Event>);

impl Observer for Forward {
    fn planned(&mut self, stages: &[&str]) {
        let _ = self.0.send(Event::Planned(
            stages.iter().map(|s| (*s).to_owned()).collect(),
        ));
    }

    fn starting(&mut self, stage: &str) {
        let _ = self.0.send(Event::Starting(stage.to_owned()));
    }

    fn done(&mut self, report: &StageReport) {
        let _ = self.0.send(Event::Done(stage_json(report).to_string()));
    }
}

fn stage_json(s: &StageReport) -> serde_json::Value {
    serde_json::json!({
        "stage": s.stage,
        "outcome": format!("{:?}", s.outcome).to_lowercase(),
        "dir": s.dir.display().to_string(),
        "line": s.line,
        "rows_in": s.counts.rows_in,
        "kept": s.counts.kept,
        "rejected": s.counts.rejected,
        "rejected_by_reason": s.counts.rejected_by_reason,
        "wall_seconds": s.wall_seconds,
        "fingerprint": s.fingerprint,
    })
}

fn report_json(r: &RunReport) -> String {
    serde_json::json!({
        "out": r.out.display().to_string(),
        "threads": r.threads,
        "stages": r.stages.iter().map(stage_json).collect::<Vec<_>>(),
        "closing": r.closing_line(),
    })
    .to_string()
}

/// An error as Python sees it: KeyboardInterrupt for an interrupted run, else
/// PricerError with the message the command prints.
fn to_py(e: anyhow::Error) -> PyErr {
    if pricer_core::cancel::is_cancelled(&e) {
        return pyo3::exceptions::PyKeyboardInterrupt::new_err("the run was interrupted");
    }
    let text = pricer_core::cli::error_text(&e);
    PricerError::new_err(text.strip_prefix("error: ").unwrap_or(&text).to_owned())
}

/// Runs `work` on a thread of its own, handing its events to `on_event` (with the GIL)
/// and checking for signals meanwhile; a signal's exception stops the work first.
fn supervise(
    py: Python<'_>,
    work: impl FnOnce(Sender<Event>) + Send + 'static,
    mut on_event: impl FnMut(Python<'_>, Event) -> PyResult<()>,
) -> PyResult<anyhow::Result<String>> {
    pricer_core::cancel::reset();
    let (tx, rx) = channel();
    let worker = std::thread::spawn(move || work(tx));
    // In a mutex only so that a thread without the GIL may wait on it.
    let rx = Mutex::new(rx);
    let result = pump(py, &rx, &mut on_event);
    if result.is_err() {
        pricer_core::cancel::request();
    }
    // The worker ends soon after a stop: wait for it, so its files are closed.
    let finished = py.detach(move || {
        let rx = rx.into_inner().unwrap_or_else(|e| e.into_inner());
        let mut last = None;
        for e in rx.iter() {
            if let Event::Finished(r) = e {
                last = Some(r);
            }
        }
        let _ = worker.join();
        last
    });
    pricer_core::cancel::reset();
    let outcome = result?;
    Ok(outcome
        .or(finished)
        .unwrap_or_else(|| Err(anyhow::anyhow!("the run's thread ended without a result"))))
}

/// Hands events to `on_event` until the worker finishes (Some(result)), or a signal
/// or a callback raises.
fn pump(
    py: Python<'_>,
    rx: &Mutex<Receiver<Event>>,
    on_event: &mut impl FnMut(Python<'_>, Event) -> PyResult<()>,
) -> PyResult<Option<anyhow::Result<String>>> {
    loop {
        let next = py.detach(|| {
            rx.lock()
                .unwrap_or_else(|e| e.into_inner())
                .recv_timeout(Duration::from_millis(50))
        });
        match next {
            Ok(Event::Finished(r)) => return Ok(Some(r)),
            Ok(event) => on_event(py, event)?,
            Err(RecvTimeoutError::Timeout) => py.check_signals()?,
            Err(RecvTimeoutError::Disconnected) => return Ok(None),
        }
    }
}

/// A config given as JSON (a Python dict) as TOML text for the runner.
fn json_to_toml(json: &str) -> PyResult<String> {
    let value: serde_json::Value = serde_json::from_str(json)
        .map_err(|e| PricerError::new_err(format!("the config dict: {e}")))?;
    let table = toml::Table::try_from(value).map_err(|e| {
        PricerError::new_err(format!("the config dict cannot be a run config: {e} (None has no TOML form: leave the key out)"))
    })?;
    toml::to_string(&table).map_err(|e| PricerError::new_err(format!("the config dict: {e}")))
}

/// Runs a recipe: config is ("bundled", name), ("file", path) or ("json", a dict's JSON);
/// `progress(kind, value)` is called with ("planned", [names]), ("starting", name) and
/// ("done", stage JSON). Returns the run report as JSON.
#[pyfunction]
#[pyo3(signature = (kind, config, out, threads, force, from_stage, progress))]
// The arguments of `pricer.run`, one for one (python/pricer/__init__.py names them).
#[allow(clippy::too_many_arguments)]
fn run(
    py: Python<'_>,
    kind: &str,
    config: String,
    out: Option<String>,
    threads: Option<usize>,
    force: bool,
    from_stage: Option<String>,
    progress: Py<PyAny>,
) -> PyResult<String> {
    let source = match kind {
        "bundled" => ConfigSource::from_arg(&config),
        "file" => ConfigSource::File(config.into()),
        _ => ConfigSource::Text {
            toml: json_to_toml(&config)?,
            origin: "the config dict given to pricer.run".into(),
        },
    };
    if threads == Some(0) {
        return Err(PricerError::new_err(
            "threads: 0 threads cannot run anything; give at least 1, or None for one per core",
        ));
    }
    let opts = RunOptions {
        out: out.map_or_else(
            || pricer_pipeline::configs::default_out(&source),
            Into::into,
        ),
        config: source,
        threads,
        force,
        from: from_stage,
        start_at: None,
    };
    let result = supervise(
        py,
        move |tx| {
            let done = pricer_cli::bundle::install()
                .and_then(|_| pricer_pipeline::run(&opts, &mut Forward(tx.clone())))
                .map(|r| report_json(&r));
            let _ = tx.send(Event::Finished(done));
        },
        |py, event| {
            let (what, value): (&str, Py<PyAny>) = match event {
                Event::Planned(names) => ("planned", names.into_pyobject(py)?.into_any().unbind()),
                Event::Starting(s) => ("starting", s.into_pyobject(py)?.into_any().unbind()),
                Event::Done(json) => ("done", json.into_pyobject(py)?.into_any().unbind()),
                Event::Finished(_) => return Ok(()),
            };
            progress.call1(py, (what, value)).map(|_| ())
        },
    )?;
    result.map_err(to_py)
}

/// The `pricer` command with `argv` (the program's name first); returns its exit code.
#[pyfunction]
fn cli(py: Python<'_>, argv: Vec<String>) -> PyResult<u8> {
    let result = supervise(
        py,
        move |tx| {
            let code = pricer_cli::main(argv.into_iter().map(Into::into));
            let _ = tx.send(Event::Finished(Ok(code.to_string())));
        },
        |_, _| Ok(()),
    )?;
    Ok(result.ok().and_then(|c| c.parse().ok()).unwrap_or(1))
}

/// How each stage of the run folder `run` stands, as JSON lines of the command.
#[pyfunction]
fn status(run: String) -> PyResult<Vec<String>> {
    pricer_pipeline::status::status(run.as_ref())
        .map(|s| pricer_pipeline::status::lines(&s))
        .map_err(to_py)
}

/// The bundled configs: (name, what it runs).
#[pyfunction]
fn configs() -> Vec<(String, String)> {
    pricer_pipeline::configs::BUNDLED
        .iter()
        .map(|(n, what, _)| ((*n).to_owned(), (*what).to_owned()))
        .collect()
}

#[pymodule]
fn _pricer(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("PricerError", m.py().get_type::<PricerError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(run, m)?)?;
    m.add_function(wrap_pyfunction!(cli, m)?)?;
    m.add_function(wrap_pyfunction!(status, m)?)?;
    m.add_function(wrap_pyfunction!(configs, m)?)?;
    Ok(())
}
