
# repack hook for Debian live-boot: /lib/live/boot/9999-repack.sh.
#
# live-boot's /bin/live-boot sources every /lib/live/boot/????-* file in order into /init's
# shell (PID 1), so this file comes after the stock 9990-* components and replaces one
# function, do_httpmount, which do_netmount calls for `fetch=`. For `fetch=<base>/<name>` it
# downloads every root image of this release, every part of each, from <base>/, into a tmpfs
# at ${mountpoint} sized from /etc/repack/rootfs.list (written at build time from the release
# manifest: no probing for parts), checks each part's size and sha256, joins the parts, and
# leaves the images where live-boot looks for them (${mountpoint}/${LIVE_MEDIA_PATH}).
# Any failure prints one line `repack: <what failed> <url>` on the console and ends the boot
# with a kernel panic (repack_fatal) instead of live-boot's panic, which waits in a shell
# unless panic= is given.

repack_get ()
{
	# busybox wget follows redirects and fails on HTTP errors.
	wget -q -O - "$1"
}

do_httpmount ()
{
	if [ -z "${FETCH}" ]
	then
		repack_fatal "this initrd fetches its root with fetch= only, got" "${HTTPFS}${FTPFS}"
	fi
	if [ ! -r "${repack_list}" ]
	then
		repack_fatal "rootfs list missing in the initrd" "${repack_list}"
	fi
	repack_base="${FETCH%/*}/"
	repack_mount_tmpfs "${mountpoint}" || repack_stop
	repack_dest="${mountpoint}/${LIVE_MEDIA_PATH}"
	mkdir -p "${repack_dest}"
	repack_fetch_all "${repack_dest}" || repack_stop
	return 0
}
