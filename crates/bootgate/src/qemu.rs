//! QEMU: the command line for each [`Firmware`] (per notes/netboot-test.md), starting it so
//! it can never outlive the gate, and a QMP screenshot for firmware that prints only to VGA.
//!
//! Network containment: user-mode networking with `restrict=on` (no route out of the guest)
//! plus exactly one `guestfwd` that runs `busybox nc 127.0.0.1 PORT` for each connection
//! the guest opens to `10.0.2.100:80`. The chardev form of guestfwd is not used: it is one
//! persistent connection, useless for HTTP.

use crate::error::BootGateError;
use crate::script::{self, BOOT_FILE_PATH, GUEST_SERVER_IP};
use crate::spec::{BootSpec, Firmware};
use crate::tools::Tools;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};

/// What a boot's QEMU needs besides the tools: where the guest's server listens and the
/// scratch files (a writable copy of the UEFI variable store, the QMP socket).
#[derive(Debug, Clone)]
pub(crate) struct Plan<'a> {
    pub tools: &'a Tools,
    pub spec: &'a BootSpec,
    pub port: u16,
    pub uefi_vars: Option<PathBuf>,
    pub qmp_socket: PathBuf,
}

/// Escapes a value for QEMU's comma-separated option syntax (`,` is written `,,`).
fn option_value(value: &Path) -> String {
    value.to_string_lossy().replace(',', ",,")
}

/// QEMU's arguments for `plan`.
pub(crate) fn arguments(plan: &Plan<'_>) -> Vec<OsString> {
    let spec = plan.spec;
    let mut netdev = format!(
        "user,id=n0,restrict=on,guestfwd=tcp:{GUEST_SERVER_IP}:80-cmd:{} nc 127.0.0.1 {}",
        option_value(&plan.tools.busybox),
        plan.port
    );
    if spec.firmware != Firmware::BiosIpxeKernel {
        // DHCP hands the NIC's iPXE this URL as the boot file.
        netdev.push_str(&format!(
            ",bootfile={}{BOOT_FILE_PATH}",
            script::server_url()
        ));
    }
    let mut args: Vec<OsString> = [
        "-m",
        &spec.memory_mib.to_string(),
        "-smp",
        &spec.cpus.max(1).to_string(),
        "-display",
        "none",
        "-serial",
        "stdio",
        "-monitor",
        "none",
        "-no-reboot",
        "-accel",
        // One host thread per vCPU when there are several (multi-threaded TCG).
        if spec.cpus > 1 {
            "tcg,thread=multi"
        } else {
            "tcg"
        },
        "-netdev",
        &netdev,
        "-device",
        "virtio-net-pci,netdev=n0",
        "-qmp",
        &format!("unix:{},server=on,wait=off", option_value(&plan.qmp_socket)),
    ]
    .iter()
    .map(OsString::from)
    .collect();
    match spec.firmware {
        Firmware::BiosIpxeKernel => {
            let lkrn = plan
                .tools
                .ipxe_lkrn
                .as_ref()
                .expect("found for this firmware");
            args.push("-kernel".into());
            args.push(lkrn.into());
            args.push("-append".into());
            args.push(script::kernel_command_line(spec).into());
        }
        Firmware::BiosNicRom => {
            args.push("-boot".into());
            args.push("n".into());
        }
        Firmware::Uefi => {
            let (code, _) = plan.tools.ovmf.as_ref().expect("found for this firmware");
            let vars = plan.uefi_vars.as_ref().expect("copied for UEFI");
            args.push("-boot".into());
            args.push("n".into());
            args.push("-drive".into());
            args.push(
                format!(
                    "if=pflash,format=raw,unit=0,readonly=on,file={}",
                    option_value(code)
                )
                .into(),
            );
            args.push("-drive".into());
            args.push(format!("if=pflash,format=raw,unit=1,file={}", option_value(vars)).into());
        }
    }
    args
}

/// Starts QEMU with the console on a pipe. The child is killed when its handle is dropped
/// (tokio's `kill_on_drop`), and by the kernel if the thread that started it dies without
/// dropping it (e.g. the test process is killed): QEMU never outlives the gate.
pub(crate) fn spawn(plan: &Plan<'_>) -> Result<Child, BootGateError> {
    let mut command = Command::new(&plan.tools.qemu);
    command
        .args(arguments(plan))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    // SAFETY: the closure runs in the forked child before exec and only calls prctl(2),
    // which is async-signal-safe; it touches no memory of the parent.
    unsafe {
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    command.spawn().map_err(|source| BootGateError::Spawn {
        qemu: plan.tools.qemu.clone(),
        source,
    })
}

/// Asks the running QEMU for a screenshot of the VGA screen (PPM) at `file`: Debian's BIOS
/// iPXE writes only there, so this is the only record of why a BIOS boot stopped in iPXE.
pub(crate) async fn screendump(qmp_socket: &Path, file: &Path) -> std::io::Result<()> {
    let exchange = async {
        let stream = tokio::net::UnixStream::connect(qmp_socket).await?;
        let (read, mut write) = stream.into_split();
        let mut lines = BufReader::new(read).lines();
        // Greeting, then capabilities negotiation, then the command.
        lines.next_line().await?;
        write
            .write_all(b"{\"execute\":\"qmp_capabilities\"}\n")
            .await?;
        reply(&mut lines).await?;
        let command = serde_json::json!({
            "execute": "screendump",
            "arguments": { "filename": file },
        });
        write.write_all(format!("{command}\n").as_bytes()).await?;
        reply(&mut lines).await
    };
    tokio::time::timeout(Duration::from_secs(10), exchange)
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "QMP did not answer"))?
}

/// Reads QMP lines up to the reply to the last command (skipping events).
async fn reply(
    lines: &mut tokio::io::Lines<BufReader<tokio::net::unix::OwnedReadHalf>>,
) -> std::io::Result<()> {
    while let Some(line) = lines.next_line().await? {
        if line.contains("\"return\"") {
            return Ok(());
        }
        if line.contains("\"error\"") {
            return Err(std::io::Error::other(line));
        }
    }
    Err(std::io::ErrorKind::UnexpectedEof.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tools() -> Tools {
        Tools {
            qemu: "/usr/bin/qemu-system-x86_64".into(),
            busybox: "/usr/bin/busybox".into(),
            ipxe_lkrn: Some("/usr/lib/ipxe/ipxe.lkrn".into()),
            ovmf: Some((
                "/usr/share/OVMF/OVMF_CODE.fd".into(),
                "/usr/share/OVMF/OVMF_VARS.fd".into(),
            )),
        }
    }

    fn args(firmware: Firmware) -> Vec<String> {
        let tools = tools();
        let spec = BootSpec::new("/out", "debian-live", firmware, "/c.log");
        let plan = Plan {
            tools: &tools,
            spec: &spec,
            port: 41234,
            uefi_vars: Some("/scratch/a,b/vars.fd".into()),
            qmp_socket: "/scratch/qmp.sock".into(),
        };
        arguments(&plan)
            .into_iter()
            .map(|arg| arg.into_string().unwrap())
            .collect()
    }

    fn after<'a>(args: &'a [String], flag: &str) -> Vec<&'a str> {
        args.windows(2)
            .filter(|pair| pair[0] == flag)
            .map(|pair| pair[1].as_str())
            .collect()
    }

    #[test]
    fn every_firmware_gets_tcg_no_reboot_and_the_contained_network() {
        for firmware in Firmware::ALL {
            let args = args(firmware);
            assert_eq!(after(&args, "-accel"), ["tcg"]);
            assert!(args.contains(&"-no-reboot".to_owned()));
            assert_eq!(after(&args, "-serial"), ["stdio"]);
            assert_eq!(after(&args, "-m"), ["1536"]);
            assert_eq!(after(&args, "-device"), ["virtio-net-pci,netdev=n0"]);
            let netdev = after(&args, "-netdev");
            assert_eq!(netdev.len(), 1);
            assert!(
                netdev[0].starts_with(
                    "user,id=n0,restrict=on,guestfwd=tcp:10.0.2.100:80-cmd:/usr/bin/busybox nc 127.0.0.1 41234"
                ),
                "{netdev:?}"
            );
            assert_eq!(netdev[0].matches("guestfwd=").count(), 1);
        }
    }

    #[test]
    fn bios_kernel_runs_the_script_from_the_command_line() {
        let args = args(Firmware::BiosIpxeKernel);
        assert_eq!(after(&args, "-kernel"), ["/usr/lib/ipxe/ipxe.lkrn"]);
        let append = after(&args, "-append");
        assert!(append[0].starts_with("dhcp && set repack-base http://10.0.2.100 && "));
        assert!(!args.iter().any(|arg| arg.contains("bootfile=")));
        assert!(!args.contains(&"-boot".to_owned()));
    }

    #[test]
    fn nic_rom_paths_get_the_boot_file_from_dhcp() {
        for firmware in [Firmware::BiosNicRom, Firmware::Uefi] {
            let args = args(firmware);
            assert!(!args.contains(&"-kernel".to_owned()));
            assert_eq!(after(&args, "-boot"), ["n"]);
            assert!(
                after(&args, "-netdev")[0]
                    .ends_with(",bootfile=http://10.0.2.100/repack-bootgate.ipxe")
            );
        }
        let uefi = args(Firmware::Uefi);
        assert_eq!(
            after(&uefi, "-drive"),
            [
                "if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE.fd",
                "if=pflash,format=raw,unit=1,file=/scratch/a,,b/vars.fd"
            ]
        );
        assert!(after(&args(Firmware::BiosNicRom), "-drive").is_empty());
    }
}
