
# repack hook for Arch archiso: /hooks/archiso_pxe_http (this file replaces archiso's own;
# mkinitcpio sources it into /init after the archiso and archiso_pxe_common hooks).
#
# With `ip=` and `archiso_http_srv=<release URL>/` it makes repack_archiso_mount_handler the
# mount handler. That handler downloads every part listed in /etc/repack/rootfs.list from
# <release URL>/ with curl (following redirects) into a tmpfs at /run/archiso/httpspace sized
# from that list, laid out as ${archisobasedir}/${arch}/airootfs.sfs, checks each part's size
# and sha256, joins them, bind-mounts the tmpfs on /run/archiso/bootmnt and calls archiso's
# own archiso_mount_handler, as the stock hook does. The image is already in RAM, so archiso
# is told not to copy it to a second tmpfs; copytoram=y is restored afterwards so
# archiso_pxe_common's late hook takes the network down as it does for HTTP boots.
# Any failure prints one line `repack: <what failed> <url>` on the console, unmounts the
# tmpfs and falls back to archiso's interactive shell.

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
	if [ -n "$(repack_arg ip)" ] && [ -n "$(repack_arg archiso_http_srv)" ]
	then
		export copytoram="y"
		export mount_handler="repack_archiso_mount_handler"
	fi
}

repack_archiso_mount_handler ()
{
	repack_newroot="$1"
	repack_base="$(repack_arg archiso_http_srv)"
	# archiso lets the URL name the PXE server as ${pxeserver}.
	case "${repack_base}" in
		*'${pxeserver}'*)
			repack_base="${repack_base%%\$\{pxeserver\}*}${pxeserver:-}${repack_base#*\$\{pxeserver\}}"
			;;
	esac
	repack_base="${repack_base%/}/"
	repack_space=/run/archiso/httpspace
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
	repack_dest="${repack_space}/${archisobasedir}/${arch}"
	mkdir -p "${repack_dest}"
	if ! repack_fetch_all "${repack_dest}"
	then
		umount "${repack_space}"
		launch_interactive_shell
		return 1
	fi
	mkdir -p /run/archiso/bootmnt
	mount -o bind "${repack_space}" /run/archiso/bootmnt

	copytoram="n"
	archiso_mount_handler "${repack_newroot}"
	copytoram="y"
}
