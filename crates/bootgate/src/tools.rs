//! [`Tools`]: the host programs and firmware files a boot needs, found where Debian's
//! packages install them. A missing one is an error naming the package, never a skip.

use crate::error::BootGateError;
use crate::spec::Firmware;
use std::path::{Path, PathBuf};

const QEMU: &str = "qemu-system-x86_64";
/// Debian's iPXE built as a Linux kernel image (package `ipxe`).
const IPXE_LKRN: [&str; 2] = ["/usr/lib/ipxe/ipxe.lkrn", "/usr/share/ipxe/ipxe.lkrn"];
/// The virtio NIC's option ROM (legacy PXE and EFI images in one file, package `ipxe-qemu`).
/// QEMU loads it by this name from its firmware path; the gate only checks it is there
/// (an absolute `romfile=` path stopped the BIOS ROM from booting on QEMU 7.2).
const NIC_ROM: [&str; 2] = [
    "/usr/lib/ipxe/qemu/efi-virtio.rom",
    "/usr/share/qemu/efi-virtio.rom",
];
/// OVMF code and its variable-store template, as pairs that belong together (package `ovmf`).
const OVMF: [(&str, &str); 2] = [
    (
        "/usr/share/OVMF/OVMF_CODE.fd",
        "/usr/share/OVMF/OVMF_VARS.fd",
    ),
    (
        "/usr/share/OVMF/OVMF_CODE_4M.fd",
        "/usr/share/OVMF/OVMF_VARS_4M.fd",
    ),
];

/// Absolute paths of everything one firmware path needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tools {
    pub qemu: PathBuf,
    /// Runs `nc` for the guest's only network path (guestfwd to 127.0.0.1).
    pub busybox: PathBuf,
    /// [`Firmware::BiosIpxeKernel`] only.
    pub ipxe_lkrn: Option<PathBuf>,
    /// [`Firmware::Uefi`] only: (read-only code, variable-store template).
    pub ovmf: Option<(PathBuf, PathBuf)>,
}

impl Tools {
    /// Finds what `firmware` needs: programs on `$PATH` (and `/usr/bin`, `/bin`), firmware
    /// files at Debian's paths.
    pub fn find(firmware: Firmware) -> Result<Tools, BootGateError> {
        let qemu = program(QEMU).ok_or_else(|| missing(QEMU, "qemu-system-x86", QEMU))?;
        let busybox = program("busybox")
            .ok_or_else(|| missing("busybox (for `nc`)", "busybox-static", "busybox"))?;
        let mut tools = Tools {
            qemu,
            busybox,
            ipxe_lkrn: None,
            ovmf: None,
        };
        match firmware {
            Firmware::BiosIpxeKernel => {
                tools.ipxe_lkrn = Some(first_file(&IPXE_LKRN).ok_or_else(|| {
                    missing(
                        "iPXE as a kernel (ipxe.lkrn)",
                        "ipxe",
                        &IPXE_LKRN.join(", "),
                    )
                })?);
            }
            Firmware::BiosNicRom | Firmware::Uefi => {
                first_file(&NIC_ROM).ok_or_else(|| {
                    missing(
                        "the virtio NIC's iPXE ROM",
                        "ipxe-qemu",
                        &NIC_ROM.join(", "),
                    )
                })?;
            }
        }
        if firmware == Firmware::Uefi {
            let pair = OVMF
                .iter()
                .find(|(code, vars)| Path::new(code).is_file() && Path::new(vars).is_file())
                .ok_or_else(|| {
                    let looked: Vec<String> = OVMF
                        .iter()
                        .map(|(code, vars)| format!("{code} + {vars}"))
                        .collect();
                    missing("OVMF (UEFI firmware)", "ovmf", &looked.join(", "))
                })?;
            tools.ovmf = Some((PathBuf::from(pair.0), PathBuf::from(pair.1)));
        }
        Ok(tools)
    }
}

fn missing(what: &'static str, package: &'static str, looked: &str) -> BootGateError {
    BootGateError::MissingTool {
        what,
        package,
        looked: looked.to_owned(),
    }
}

fn first_file(candidates: &[&str]) -> Option<PathBuf> {
    candidates
        .iter()
        .map(PathBuf::from)
        .find(|path| path.is_file())
}

/// `name` on `$PATH`, then in `/usr/bin` and `/bin`.
fn program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/bin"), PathBuf::from("/bin")])
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}
