// Package kernel holds facts about Linux that the host and the guest agent
// share, in the kernel's own words: errno names as userspace sees them,
// taint flags and their letters. It needs nothing but the standard
// library's strings and fmt, so the agent stays small.
package kernel

import "strings"

// linuxErrnos lists the errno names userspace can see on Linux, in number
// order from EPERM (1) to EHWPOISON (133), spelled as x/sys/unix.ErrnoName
// spells them (the agent reports errnos with it; errno_linux_test.go checks
// the two agree). A table rather than unix's own keeps the names Linux's
// whichever host parses the scenario.
var linuxErrnos = strings.Fields(`
	EPERM ENOENT ESRCH EINTR EIO ENXIO E2BIG ENOEXEC EBADF ECHILD EAGAIN ENOMEM
	EACCES EFAULT ENOTBLK EBUSY EEXIST EXDEV ENODEV ENOTDIR EISDIR EINVAL ENFILE
	EMFILE ENOTTY ETXTBSY EFBIG ENOSPC ESPIPE EROFS EMLINK EPIPE EDOM ERANGE
	EDEADLK ENAMETOOLONG ENOLCK ENOSYS ENOTEMPTY ELOOP ENOMSG EIDRM ECHRNG
	EL2NSYNC EL3HLT EL3RST ELNRNG EUNATCH ENOCSI EL2HLT EBADE EBADR EXFULL ENOANO
	EBADRQC EBADSLT EBFONT ENOSTR ENODATA ETIME ENOSR ENONET ENOPKG EREMOTE
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
	"EWOULDBLOCK": "EAGAIN",
	"EDEADLOCK":   "EDEADLK",
	"EOPNOTSUPP":  "ENOTSUP",
}

var knownErrnos = func() map[string]bool {
	m := make(map[string]bool, len(linuxErrnos))
	for _, n := range linuxErrnos {
		m[n] = true
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
