//! Reconstructions of the init systems the families hook into, each enforcing the rules
//! listed (with their sources) in `repack_boot::init_rules`: which files run, whether they are
//! sourced or executed, the executable bit, ORDER and `/config` lists, PATH, working directory
//! and command-line parsing, and what each init does after a hook fails (the prompts and
//! searches a failed repack hook must never reach). Only the parts of each init a hook can
//! observe are rebuilt; what each family's main script does with the images is reduced to
//! printing what it finds where the real one looks.

pub mod dracut;
pub mod initramfs_tools;
pub mod mkinitcpio;

/// Console and output markers of the prompts and searches the families fall into.
pub const PROMPTS: &[&str] = &[
    "INTERACTIVE SHELL",
    "(initramfs) SHELL",
    "Attempt interactive netboot from a URL?",
    "EMERGENCY SHELL",
    "SEARCHING",
    "SWITCH_ROOT",
];

/// Asserts that after a hook failure the boot stopped with a kernel panic right after the
/// hook's line: no family went on searching, prompting or booting.
pub fn assert_stopped_by_panic(run: &crate::support::Run) {
    assert!(
        run.panicked,
        "the hook did not panic the kernel\n{}\n{}",
        run.output, run.console
    );
    for marker in PROMPTS {
        assert!(
            !run.output.contains(marker) && !run.console.contains(marker),
            "the family went on to `{marker}` after the hook failed\n{}\n{}",
            run.output,
            run.console
        );
    }
    let lines = run.repack_lines();
    assert!(
        lines
            .last()
            .is_some_and(|line| line.starts_with("repack: stopping the boot with a kernel panic")),
        "{}",
        run.console
    );
    assert!(
        run.console.trim_end().ends_with(crate::support::PANIC_LINE),
        "{}",
        run.console
    );
}
