# repack: helpers shared by the casper, dracut, archiso and miso hooks. repack-boot puts this
# text at the top of each of those hooks when it builds the overlay, so every family fetches,
# checks and joins parts with the same code, tested once.
#
# Contract with the family part that follows:
# - it sets repack_base (URL prefix ending in `/`) before calling repack_fetch_all;
# - it defines repack_get URL FILE: download URL to FILE, following redirects, non-zero
#   on any transport or HTTP error;
# - it mounts nothing itself: repack_mount_tmpfs sizes the tmpfs from the baked list.
# Every name starts with repack_, so sourcing this into a family's own shell (archiso and
# miso source their hooks into /init) changes none of the family's variables. POSIX sh only:
# busybox ash, dash and bash all run it. Needs: ls, mkdir, mv, rm, dd, mount, umount, and
# one of sha256sum, `busybox sha256sum` or `openssl dgst`.

repack_list=/etc/repack/rootfs.list
repack_failed=""

# The one failure line. Families send their own output to log files that reach the console
# late or never (casper.log, boot.log, the journal), so it goes to the console itself.
repack_fail ()
{
	repack_failed=1
	for repack_out in /dev/console /dev/kmsg
	do
		if [ -w "${repack_out}" ] && echo "repack: $*" >> "${repack_out}" 2>/dev/null
		then
			return 1
		fi
	done
	echo "repack: $*" >&2
	return 1
}

# Where the kernel takes SysRq requests (`c` crashes it). Every family's kernel has magic
# SysRq built in, and writes here are allowed whatever kernel.sysrq says.
repack_sysrq=/proc/sysrq-trigger

# The one failure line, then the end of this boot. After a hook failure no family may go on
# searching other media, prompting or booting something else, and each family's own fatal
# path ends at a prompt: casper asks "Attempt interactive netboot from a URL?" whatever
# panic= says; mkinitcpio always starts launch_interactive_shell; initramfs-tools' panic and
# dracut's emergency shell prompt unless configured otherwise. Hooks run as child processes
# (casper's premount scripts, dracut's netroot handler) cannot stop their parent at all.
# A kernel panic stops every family alike: the console keeps the line and shows the panic,
# and the kernel's own `panic=N` reboots after N seconds (negative: at once; absent: the
# machine stays halted there, never at a prompt).
repack_fatal ()
{
	repack_fail "$@"
	repack_stop
}

# The end of this boot after a failure whose line is already printed (see repack_fatal).
repack_stop ()
{
	repack_fail "stopping the boot with a kernel panic (panic=N on the kernel command line reboots)"
	echo c 2>/dev/null > "${repack_sysrq}"
	# No SysRq: PID 1 ending panics the kernel too (mkinitcpio and initramfs-tools run hooks
	# in PID 1's shell); anywhere else, halt here rather than fall through.
	if [ "$$" = 1 ]
	then
		exit 1
	fi
	while :
	do
		sleep 3600
	done
}

# Progress, on the console like a failure line (a download of gigabytes is worth seeing) and
# in the family's own log.
repack_log ()
{
	for repack_out in /dev/console /dev/kmsg
	do
		if [ -w "${repack_out}" ] && echo "repack: $*" >> "${repack_out}" 2>/dev/null
		then
			break
		fi
	done
	echo "repack: $*"
}

# Sets repack_total, repack_largest and repack_count from the list.
repack_sizes ()
{
	repack_total=0
	repack_largest=0
	repack_count=0
	while read -r repack_file repack_part repack_size repack_sha256 <&3
	do
		repack_total=$((repack_total + repack_size))
		repack_count=$((repack_count + 1))
		if [ "${repack_size}" -gt "${repack_largest}" ]
		then
			repack_largest=${repack_size}
		fi
	done 3< "${repack_list}"
}

# Mounts a tmpfs at $1 with room for every image, the part being joined and 16 MiB of slack.
repack_mount_tmpfs ()
{
	repack_sizes
	repack_bytes=$((repack_total + repack_largest + 16777216))
	mkdir -p "$1"
	if ! mount -t tmpfs -o "size=${repack_bytes},mode=0755" repack "$1"
	then
		repack_fail "cannot mount a tmpfs of ${repack_bytes} bytes at" "$1"
		return 1
	fi
	repack_log "fetching ${repack_total} bytes in ${repack_count} part(s) from ${repack_base}"
}

# The size of file $1 in bytes (ls is in every initrd; wc and stat are not in dracut's).
repack_size_of ()
{
	repack_ls=$(ls -ln "$1") || return 1
	# shellcheck disable=SC2086
	set -- ${repack_ls}
	echo "$5"
}

# The sha256 of file $1 in hex, with whichever tool this initrd has.
repack_sha256 ()
{
	if command -v sha256sum > /dev/null 2>&1
	then
		repack_sum=$(sha256sum "$1") || return 1
	elif command -v busybox > /dev/null 2>&1 && busybox sha256sum /dev/null > /dev/null 2>&1
	then
		repack_sum=$(busybox sha256sum "$1") || return 1
	elif command -v openssl > /dev/null 2>&1
	then
		repack_sum=$(openssl dgst -sha256 -r "$1") || return 1
	else
		return 2
	fi
	echo "${repack_sum%% *}"
}

# Downloads every part in the list from ${repack_base} into directory $1, checks each part's
# size and sha256 before it is used, and joins the parts of each image as $1/<image name>.
# On failure: prints the one line, removes what it wrote, returns 1.
repack_fetch_all ()
{
	repack_dir=$1
	repack_tmp="${repack_dir}/.repack-part"
	while read -r repack_file repack_part repack_size repack_sha256 <&3
	do
		repack_url="${repack_base}${repack_part}"
		rm -f "${repack_tmp}"
		if ! repack_get "${repack_url}" "${repack_tmp}"
		then
			repack_fail "download failed" "${repack_url}"
			break
		fi
		repack_got=$(repack_size_of "${repack_tmp}")
		if [ "${repack_got}" != "${repack_size}" ]
		then
			repack_fail "size mismatch (${repack_got} bytes, expected ${repack_size})" "${repack_url}"
			break
		fi
		repack_hash=$(repack_sha256 "${repack_tmp}")
		case $? in
			0) ;;
			2)
				repack_fail "no sha256 tool in this initrd, cannot check" "${repack_url}"
				break
				;;
			*)
				repack_fail "cannot hash (out of memory?)" "${repack_url}"
				break
				;;
		esac
		if [ "${repack_hash}" != "${repack_sha256}" ]
		then
			repack_fail "sha256 mismatch (got ${repack_hash})" "${repack_url}"
			break
		fi
		if [ -e "${repack_dir}/${repack_file}" ]
		then
			# dd, not cat: dracut initrds have no cat.
			if ! dd if="${repack_tmp}" bs=1048576 2>/dev/null >> "${repack_dir}/${repack_file}"
			then
				repack_fail "cannot join part (out of memory?)" "${repack_url}"
				break
			fi
			rm -f "${repack_tmp}"
		else
			mv "${repack_tmp}" "${repack_dir}/${repack_file}"
		fi
	done 3< "${repack_list}"
	rm -f "${repack_tmp}"
	if [ -n "${repack_failed}" ]
	then
		return 1
	fi
	repack_log "root filesystem verified"
	return 0
}
