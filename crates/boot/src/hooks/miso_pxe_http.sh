
# repack hook for Manjaro miso: /hooks/miso_pxe_http (this file replaces miso's own;
# mkinitcpio sources it into /init after the miso and miso_pxe_common hooks).
#
# With `ip=` and `miso_http_srv=<release URL>/` it makes repack_miso_mount_handler the mount
# handler. That handler downloads every image (rootfs, desktopfs, mhwdfs, livefs: whatever
# the release has) and every part listed in /etc/repack/rootfs.list from <release URL>/ with
# curl (following redirects) into a tmpfs at /run/miso/httpspace sized from that list, laid
# out as ${misobasedir}/${arch}/<image>.sfs, checks each part's size and sha256, joins them,
# bind-mounts the tmpfs on /run/miso/bootmnt and calls miso's own miso_mount_handler, as the
# stock hook does. The images are already in RAM, so miso is told not to copy them to a
# second tmpfs; copytoram=y is restored afterwards for miso_pxe_common's late hook.
# Any failure prints one line `repack: <what failed> <url>` on the console, unmounts the
# tmpfs and falls back to miso's interactive shell.

repack_get ()
{
	curl -L -f -s -S -o "$2" "$1"
}

# A kernel argument, through mkinitcpio's getarg when it has one, else the variable its
# parse_cmdline set.
repack_arg ()
{
	if command -v getarg > /dev/null 2>&1
	then
		getarg "$1"
	else
		eval "printf '%s' \"\${$1:-}\""
	fi
}

run_hook ()
{
	if [ -n "$(repack_arg ip)" ] && [ -n "$(repack_arg miso_http_srv)" ]
	then
		copytoram="y"
		mount_handler="repack_miso_mount_handler"
	fi
}

repack_miso_mount_handler ()
{
	repack_newroot="$1"
	repack_base="$(repack_arg miso_http_srv)"
	case "${repack_base}" in
		*'${pxeserver}'*)
			repack_base="${repack_base%%\$\{pxeserver\}*}${pxeserver:-}${repack_base#*\$\{pxeserver\}}"
			;;
	esac
	repack_base="${repack_base%/}/"
	repack_space=/run/miso/httpspace
	if [ ! -r "${repack_list}" ]
	then
		repack_fail "rootfs list missing in the initrd" "${repack_list}"
		launch_interactive_shell
		return 1
	fi
	if ! repack_mount_tmpfs "${repack_space}"
	then
		launch_interactive_shell
		return 1
	fi
	repack_dest="${repack_space}/${misobasedir}/${arch}"
	mkdir -p "${repack_dest}"
	if ! repack_fetch_all "${repack_dest}"
	then
		umount "${repack_space}"
		launch_interactive_shell
		return 1
	fi
	mkdir -p /run/miso/bootmnt
	mount -o bind "${repack_space}" /run/miso/bootmnt

	copytoram="n"
	miso_mount_handler "${repack_newroot}"
	copytoram="y"
}
