# repack hook for Debian live-boot, sourced after live-boot's own 9990-* components.
#
# It replaces do_httpmount() only. For `fetch=<base>/<name>` it downloads every root
# filesystem image of this release, every part of each, from <base>/, checks each part's
# size and sha256 against /etc/repack/rootfs.list (written at build time from the release
# manifest: no probing for parts), joins the parts, and leaves the images where live-boot
# looks for them (${mountpoint}/${LIVE_MEDIA_PATH}), in a tmpfs sized for them.
# Any failure prints one line `repack: <what failed> <url>` on the console and returns 1.

: "${REPACK_LIST:=/etc/repack/rootfs.list}"

repack_say ()
{
	# live-boot sends our stdout to boot.log, which reaches the console only through a
	# background copy that a panic cuts short: write to the console itself.
	for repack_out in ${REPACK_CONSOLE:-/dev/console}
	do
		if [ -w "${repack_out}" ] && echo "repack: $*" >> "${repack_out}" 2>/dev/null
		then
			return 0
		fi
	done
	echo "repack: $*"
}

repack_fail ()
{
	repack_say "$*"
	umount "${mountpoint}" 2>/dev/null
	return 1
}

do_httpmount ()
{
	if [ -z "${FETCH}" ]
	then
		repack_fail "this initrd fetches its root with fetch= only, got" "${HTTPFS}${FTPFS}"
		return 1
	fi
	if [ ! -r "${REPACK_LIST}" ]
	then
		repack_fail "rootfs list missing in the initrd" "${REPACK_LIST}"
		return 1
	fi
	repack_base="${FETCH%/*}"

	repack_total=0
	repack_largest=0
	repack_parts=0
	while read -r repack_file repack_part repack_size repack_sha256
	do
		repack_total=$((repack_total + repack_size))
		repack_parts=$((repack_parts + 1))
		if [ "${repack_size}" -gt "${repack_largest}" ]
		then
			repack_largest=${repack_size}
		fi
	done < "${REPACK_LIST}"

	# Room for every image plus the part being joined, plus slack for the filesystem.
	repack_bytes=$((repack_total + repack_largest + 16777216))
	mkdir -p "${mountpoint}"
	if ! mount -t tmpfs -o "size=${repack_bytes},mode=0755" repack "${mountpoint}"
	then
		repack_fail "cannot mount a tmpfs of ${repack_bytes} bytes at" "${mountpoint}"
		return 1
	fi
	repack_dest="${mountpoint}/${LIVE_MEDIA_PATH}"
	mkdir -p "${repack_dest}"
	repack_say "fetching ${repack_total} bytes in ${repack_parts} part(s) from" "${repack_base}/"

	repack_tmp="${repack_dest}/.repack-part"
	while read -r repack_file repack_part repack_size repack_sha256
	do
		repack_url="${repack_base}/${repack_part}"
		rm -f "${repack_tmp}"
		if ! wget -q -O "${repack_tmp}" "${repack_url}"
		then
			repack_fail "download failed" "${repack_url}"
			return 1
		fi
		repack_got=$(wc -c < "${repack_tmp}")
		if [ "${repack_got}" -ne "${repack_size}" ]
		then
			repack_fail "size mismatch (${repack_got} bytes, expected ${repack_size})" "${repack_url}"
			return 1
		fi
		repack_sum=$(sha256sum "${repack_tmp}")
		if [ "${repack_sum%% *}" != "${repack_sha256}" ]
		then
			repack_fail "sha256 mismatch (got ${repack_sum%% *})" "${repack_url}"
			return 1
		fi
		if [ -e "${repack_dest}/${repack_file}" ]
		then
			if ! cat "${repack_tmp}" >> "${repack_dest}/${repack_file}"
			then
				repack_fail "cannot join part (out of memory?)" "${repack_url}"
				return 1
			fi
			rm -f "${repack_tmp}"
		else
			mv "${repack_tmp}" "${repack_dest}/${repack_file}"
		fi
	done < "${REPACK_LIST}"

	repack_say "root filesystem verified, booting"
	return 0
}
