//! An example behaves as `python3 file.py`: one test per behaviour, each
//! running a block of tests/fixtures/like-python in the server and as a
//! script with the interpreter the binary was built against, and comparing
//! stdout, stderr (file names set aside) and how it ended. The fidelity
//! corpus (`fidelity.rs`) measures the same over 250 examples.
use super::fidelity::{differences, examples, in_server, python, under_python3};
use super::helpers::*;

/// Runs the block `name=NAME` both ways and fails with the differences.
async fn assert_like_python3(name: &str) {
    let app = spawn_app(&fixture("like-python")).await;
    let all = examples(&app.json("/api/snippets").await);
    let example = all
        .iter()
        .find(|e| e.name.as_deref() == Some(name))
        .unwrap_or_else(|| panic!("no block name={name}"));
    let expected = under_python3(&python(), example).await;
    let actual = in_server(&app, example).await;
    let found = differences(&expected, &actual);
    assert!(
        found.is_empty(),
        "{name} differs from python3:\n{}",
        found.join("\n")
    );
}

#[tokio::test]
async fn main_is_the_examples_own_module_for_pickle_doctest_timeit_inspect_and_profile() {
    assert_like_python3("main-module").await;
}

#[tokio::test]
async fn non_daemon_threads_are_waited_for_and_their_output_kept() {
    assert_like_python3("threads-waited").await;
}

#[tokio::test]
async fn child_processes_and_byte_writes_reach_the_page_in_order() {
    assert_like_python3("child-output").await;
}

#[tokio::test]
async fn get_event_loop_works_as_on_a_main_thread() {
    assert_like_python3("event-loop").await;
}

#[tokio::test]
async fn name_errors_keep_their_did_you_mean_hint() {
    assert_like_python3("name-hint").await;
}

#[tokio::test]
async fn attribute_errors_keep_their_did_you_mean_hint() {
    assert_like_python3("attribute-hint").await;
}

#[tokio::test]
async fn an_exception_in_a_thread_shows_the_examples_line() {
    assert_like_python3("thread-traceback").await;
}

#[tokio::test]
async fn exit_runs_atexit_callbacks_and_finalisers() {
    assert_like_python3("exit-and-atexit").await;
}

#[tokio::test]
async fn redirecting_and_replacing_stdout_work_as_in_a_script() {
    assert_like_python3("redirect-and-restore").await;
}

#[tokio::test]
async fn a_thread_pool_left_open_ends_with_the_run() {
    assert_like_python3("pool-without-shutdown").await;
}

#[tokio::test]
async fn file_and_argv_are_a_script_s() {
    assert_like_python3("file-and-argv").await;
}
