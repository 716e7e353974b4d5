
# repack netroot handler for dracut: /sbin/repackroot.
#
# Called by dracut's /sbin/netroot as `repackroot <netif> repack:<url> <newroot>` for each
# interface that comes up (the cmdline hook 29-repack-livenet.sh set netroot=repack:<url>
# from root=live:<url>). The first call downloads every part listed in
# /etc/repack/rootfs.list from the directory of <url>, with curl and the arguments dracut's
# url-lib gives it (`curl_args`: following redirects, failing on HTTP errors, proxy= and
# rd.noverifyssl), into a tmpfs at /run/repack sized from that list, each part written onto
# the end of its image and checked (size, sha256), and execs dmsquash-live-root on the
# joined image, exactly where livenetroot would. url-lib's own fetch_url cannot be used: it
# refuses any output that is not a regular file (`[ -f "$outloc" ]`), so it cannot stream.
# Any failure prints one line `repack: <what failed> <url>` on the console and ends the boot
# with a kernel panic (repack_fatal); dracut would otherwise wait for the root until its
# initqueue times out and then start its emergency shell.

command -v getarg > /dev/null 2>&1 || . /lib/dracut-lib.sh
command -v fetch_url > /dev/null 2>&1 || . /lib/url-lib.sh

PATH=/usr/sbin:/usr/bin:/sbin:/bin

repack_get ()
{
	# shellcheck disable=SC2086
	curl ${curl_args:---globoff --location --fail --show-error} --silent --output - -- "$1"
}

repack_main ()
{
	# netroot calls the handler once per interface; only the first call fetches.
	if [ -e /tmp/repack.started ]
	then
		return 0
	fi
	: > /tmp/repack.started

	repack_url="${1#repack:}"
	repack_base="${repack_url%/*}/"
	repack_root=/run/repack
	repack_image="${repack_root}/${repack_url##*/}"
	if [ ! -r "${repack_list}" ]
	then
		repack_fatal "rootfs list missing in the initrd" "${repack_list}"
	fi
	repack_mount_tmpfs "${repack_root}" || repack_stop
	repack_fetch_all "${repack_root}" || repack_stop
	if [ ! -f "${repack_image}" ]
	then
		repack_fatal "root image is not in the rootfs list baked into this initrd" "${repack_url}"
	fi
	return 0
}

if repack_main "${2:-}"
then
	if [ -f "${repack_image:-}" ]
	then
		exec /sbin/dmsquash-live-root "${repack_image}"
	fi
	exit 0
fi
exit 1
