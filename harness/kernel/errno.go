// Package kernel holds facts about Linux that the host and the guest agent
// share, in the kernel's own words: errno names as userspace sees them,
// taint flags and their letters. It needs nothing but the standard
// library's strings and fmt, so the agent stays small.
package kernel

import "strings"

// linuxErrnos lists the errno names userspace can see on Linux, in number
// order from EPERM (1) to EHWPOISON (133), as include/uapi/asm-generic
// spells them; "-" holds the two numbers Linux leaves unused (41, 58). The agent names errnos from this table (ErrnoName), so
// observations and expectations share one spelling whatever x/sys/unix
// calls a number (its v0.49 calls 117 EFSCORRUPTED, an in-kernel alias).
var linuxErrnos = strings.Fields(`
	EPERM ENOENT ESRCH EINTR EIO ENXIO E2BIG ENOEXEC EBADF ECHILD EAGAIN ENOMEM
	EACCES EFAULT ENOTBLK EBUSY EEXIST EXDEV ENODEV ENOTDIR EISDIR EINVAL ENFILE
	EMFILE ENOTTY ETXTBSY EFBIG ENOSPC ESPIPE EROFS EMLINK EPIPE EDOM ERANGE
	EDEADLK ENAMETOOLONG ENOLCK ENOSYS ENOTEMPTY ELOOP - ENOMSG EIDRM ECHRNG
	EL2NSYNC EL3HLT EL3RST ELNRNG EUNATCH ENOCSI EL2HLT EBADE EBADR EXFULL ENOANO
	EBADRQC EBADSLT - EBFONT ENOSTR ENODATA ETIME ENOSR ENONET ENOPKG EREMOTE
	ENOLINK EADV ESRMNT ECOMM EPROTO EMULTIHOP EDOTDOT EBADMSG EOVERFLOW ENOTUNIQ
	EBADFD EREMCHG ELIBACC ELIBBAD ELIBSCN ELIBMAX ELIBEXEC EILSEQ ERESTART
	ESTRPIPE EUSERS ENOTSOCK EDESTADDRREQ EMSGSIZE EPROTOTYPE ENOPROTOOPT
	EPROTONOSUPPORT ESOCKTNOSUPPORT ENOTSUP EPFNOSUPPORT EAFNOSUPPORT EADDRINUSE
	EADDRNOTAVAIL ENETDOWN ENETUNREACH ENETRESET ECONNABORTED ECONNRESET ENOBUFS
	EISCONN ENOTCONN ESHUTDOWN ETOOMANYREFS ETIMEDOUT ECONNREFUSED EHOSTDOWN
	EHOSTUNREACH EALREADY EINPROGRESS ESTALE EUCLEAN ENOTNAM ENAVAIL EISNAM
	EREMOTEIO EDQUOT ENOMEDIUM EMEDIUMTYPE ECANCELED ENOKEY EKEYEXPIRED
	EKEYREVOKED EKEYREJECTED EOWNERDEAD ENOTRECOVERABLE ERFKILL EHWPOISON`)

// errnoAliases are second names of one number; the agent reports the first.
var errnoAliases = map[string]string{
	"EWOULDBLOCK":  "EAGAIN",
	"EDEADLOCK":    "EDEADLK",
	"EOPNOTSUPP":   "ENOTSUP",
	"EFSCORRUPTED": "EUCLEAN",
}

// ErrnoName is the name of errno n as the agent reports it ("EAGAIN"), ""
// for a number Linux does not define.
func ErrnoName(n int) string {
	if n < 1 || n > len(linuxErrnos) || linuxErrnos[n-1] == "-" {
		return ""
	}
	return linuxErrnos[n-1]
}

var knownErrnos = func() map[string]bool {
	m := make(map[string]bool, len(linuxErrnos))
	for _, n := range linuxErrnos {
		if n != "-" {
			m[n] = true
		}
	}
	return m
}()

// CanonicalErrno maps an errno name to the one the agent reports: "ok" and ""
// become "" (success), aliases become their first name (EWOULDBLOCK →
// EAGAIN), case is ignored. ok is false for a name Linux does not have.
func CanonicalErrno(name string) (string, bool) {
	up := strings.ToUpper(strings.TrimSpace(name))
	if up == "" || up == "OK" {
		return "", true
	}
	if a, ok := errnoAliases[up]; ok {
		return a, true
	}
	return up, knownErrnos[up]
}
