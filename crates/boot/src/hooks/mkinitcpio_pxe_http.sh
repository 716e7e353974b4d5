
# repack hook for @FAMILY@: /hooks/@HOOK@, in place of @FAMILY@'s own HTTP hook.
#
# mkinitcpio's /init runs it only because the initrd's /config names @HOOK@ in HOOKS and
# the file is executable: it sources the file into its own shell (PID 1, working directory /)
# and calls run_hook. With `ip=` and `@SRV_ARG@=<release URL>/` on the kernel command line,
# run_hook makes repack_mount_handler the mount handler. That handler downloads every file in
# /etc/repack/rootfs.list (the images, their parts, and @FAMILY@'s own side files when the
# release has them, e.g. airootfs.sha512) from <release URL>/ with curl, following redirects,
# into a tmpfs at @RUN_DIR@/httpspace sized from that list, laid out as
# ${@BASEDIR@}/${arch}/<name>, checks each part's size and sha256, joins the parts,
# bind-mounts the tmpfs on @RUN_DIR@/bootmnt and calls @FAMILY@'s own @HANDLER@, as the
# stock hook does, so @FAMILY@'s own checks (checksum=y, verify=y) still run on top of ours.
# The images are already in RAM, so @FAMILY@ is told not to copy them again; copytoram=y is
# restored afterwards so the pxe_common late hook takes the network down as it does for HTTP
# boots. Any failure prints one line `repack: <what failed> <url>` on the console and ends
# the boot with a kernel panic (repack_fatal), never in @FAMILY@'s interactive shell.

repack_get ()
{
	curl -L -f -s -S "$1"
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
	if [ -n "$(repack_arg ip)" ] && [ -n "$(repack_arg @SRV_ARG@)" ]
	then
		export copytoram="y"
		export mount_handler="repack_mount_handler"
	fi
}

repack_mount_handler ()
{
	repack_newroot="$1"
	repack_base="$(repack_arg @SRV_ARG@)"
	# The stock hook lets the URL name the PXE server as ${pxeserver}.
	case "${repack_base}" in
		*'${pxeserver}'*)
			repack_base="${repack_base%%\$\{pxeserver\}*}${pxeserver:-}${repack_base#*\$\{pxeserver\}}"
			;;
	esac
	repack_base="${repack_base%/}/"
	repack_space=@RUN_DIR@/httpspace
	if [ ! -r "${repack_list}" ]
	then
		repack_fatal "rootfs list missing in the initrd" "${repack_list}"
	fi
	repack_mount_tmpfs "${repack_space}" || repack_stop
	repack_dest="${repack_space}/${@BASEDIR@}/${arch}"
	mkdir -p "${repack_dest}"
	repack_fetch_all "${repack_dest}" || repack_stop
	mkdir -p @RUN_DIR@/bootmnt
	if ! mount -o bind "${repack_space}" @RUN_DIR@/bootmnt
	then
		repack_fatal "cannot bind-mount the downloaded images on" "@RUN_DIR@/bootmnt"
	fi

	copytoram="n"
	@HANDLER@ "${repack_newroot}"
	copytoram="y"
}
