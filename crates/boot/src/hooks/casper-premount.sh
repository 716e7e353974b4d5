
# repack hook for Ubuntu casper: /scripts/casper-premount/99repack.
#
# casper runs each script listed in /scripts/casper-premount/ORDER as a child process and
# sources /conf/param.conf after each one; repack rewrites ORDER to add this script after the
# stock ones. With `repack.base=<release URL>` on the kernel command line (networking is
# already up: casper configures it before premount when `ip=` is given) it downloads every
# layer and part listed in /etc/repack/rootfs.list into a tmpfs sized from that list, laid out
# as <tmpfs>/casper/<layer>, checks each part's size and sha256, joins the parts, and writes
# LIVEMEDIA=<tmpfs> into /conf/param.conf: casper's find_livefs then takes that directory
# (skipping its UUID check) and stacks the layers from LAYERFS_PATH as usual.
# Any failure prints one line `repack: <what failed> <url>` on the console and ends the boot
# with a kernel panic (repack_fatal): casper would otherwise go on searching for other media
# and then wait at its "Attempt interactive netboot from a URL?" prompt, and a premount
# script is a child process that cannot stop it any other way.

case "${1:-}" in
	prereqs)
		exit 0
		;;
esac

repack_get ()
{
	# busybox wget follows redirects and fails on HTTP errors.
	wget -q -O - "$1"
}

repack_main ()
{
	repack_base=""
	read -r repack_cmdline < /proc/cmdline
	set -f
	for repack_arg in ${repack_cmdline}
	do
		case "${repack_arg}" in
			repack.base=*)
				repack_base="${repack_arg#repack.base=}"
				;;
		esac
	done
	if [ -z "${repack_base}" ]
	then
		# Not a repack network boot (e.g. the same initrd booted from the ISO).
		return 0
	fi
	repack_base="${repack_base%/}/"
	if [ ! -r "${repack_list}" ]
	then
		repack_fatal "rootfs list missing in the initrd" "${repack_list}"
	fi

	repack_root=/run/repack
	repack_mount_tmpfs "${repack_root}" || repack_stop
	repack_media="${repack_root}/${LIVE_MEDIA_PATH:-casper}"
	mkdir -p "${repack_media}"
	repack_fetch_all "${repack_media}" || repack_stop
	{
		echo "LIVEMEDIA=${repack_root}"
		echo "export LIVEMEDIA"
	} >> /conf/param.conf
	repack_log "casper will boot from ${repack_root}"
	return 0
}

repack_main
