//! The few iPXE commands the gate runs before the published menu: preset the menu's
//! settings (`repack-base`, `repack-target`, `repack-args`; see crates/menu/src/ipxe.rs) and
//! chain `menu.ipxe`, so the real menu is what boots the release.

use crate::spec::BootSpec;

/// The address the guest reaches the gate's server at; QEMU's guestfwd connects it to
/// 127.0.0.1 on the host. An IP, never a name: the guest has no DNS.
pub const GUEST_SERVER_IP: &str = "10.0.2.100";
/// Path of the generated boot file (NIC ROM and UEFI paths get it from DHCP). Named so it
/// cannot shadow anything `repack` publishes.
pub const BOOT_FILE_PATH: &str = "/repack-bootgate.ipxe";

/// `http://10.0.2.100`: the server root as the guest sees it.
pub fn server_url() -> String {
    format!("http://{GUEST_SERVER_IP}")
}

/// The commands, one per element. The values were validated by `BootSpec::validate`.
fn commands(spec: &BootSpec) -> Vec<String> {
    let server = server_url();
    vec![
        // The published menu defaults to the public URL; the gate serves the output
        // directory itself, so releases are below the server root.
        format!("set repack-base {server}"),
        format!("set repack-target {}", spec.target),
        format!("set repack-args {}", spec.kernel_args().join(" ")),
        format!("chain {server}/menu.ipxe"),
    ]
}

/// The command line for `ipxe.lkrn` (`-append`): it runs as one script line, so the
/// commands are joined with `&&` after bringing the network up.
pub fn kernel_command_line(spec: &BootSpec) -> String {
    let mut line = String::from("dhcp");
    for command in commands(spec) {
        line.push_str(" && ");
        line.push_str(&command);
    }
    line
}

/// The boot file served at [`BOOT_FILE_PATH`]; the NIC's iPXE has already run DHCP.
pub fn boot_file(spec: &BootSpec) -> String {
    let mut script = String::from("#!ipxe\n");
    for command in commands(spec) {
        script.push_str(&command);
        script.push('\n');
    }
    script
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Firmware;

    fn spec() -> BootSpec {
        let mut spec = BootSpec::new("/out", "debian-live", Firmware::BiosIpxeKernel, "/c.log");
        spec.extra_kernel_args = vec!["systemd.show_status=1".to_owned()];
        spec
    }

    #[test]
    fn kernel_command_line_presets_the_menu_and_chains_it() {
        assert_eq!(
            kernel_command_line(&spec()),
            "dhcp && set repack-base http://10.0.2.100 && set repack-target debian-live \
             && set repack-args console=ttyS0,115200 panic=-1 systemd.show_status=1 \
             && chain http://10.0.2.100/menu.ipxe"
        );
    }

    #[test]
    fn boot_file_is_a_script_with_one_command_per_line() {
        assert_eq!(
            boot_file(&spec()),
            "#!ipxe\n\
             set repack-base http://10.0.2.100\n\
             set repack-target debian-live\n\
             set repack-args console=ttyS0,115200 panic=-1 systemd.show_status=1\n\
             chain http://10.0.2.100/menu.ipxe\n"
        );
    }
}
