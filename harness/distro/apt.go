package distro

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// pkg is one Debian package at one version.
type pkg struct{ Name, Version string }

func (p pkg) String() string { return p.Name + "=" + p.Version }

// stanza is what apt-cache show says about one package version.
type stanza struct {
	pkg
	Depends [][]dep // groups of alternatives (a | b)
}

type dep struct{ Name, Op, Version string }

// parseStanza reads the first stanza of apt-cache show output.
func parseStanza(out []byte) (stanza, error) {
	var s stanza
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" && s.Name != "" {
			break
		}
		k, v, ok := strings.Cut(line, ": ")
		if !ok {
			continue
		}
		switch k {
		case "Package":
			s.Name = v
		case "Version":
			s.Version = v
		case "Depends":
			s.Depends = parseDepends(v)
		}
	}
	if s.Name == "" || s.Version == "" {
		return s, errors.New("no Package/Version in apt-cache show output")
	}
	return s, sc.Err()
}

// parseDepends reads a Depends field: "a (= 1), b | c (>= 2), d".
func parseDepends(v string) [][]dep {
	var groups [][]dep
	for _, g := range strings.Split(v, ",") {
		var alts []dep
		for _, a := range strings.Split(g, "|") {
			a = strings.TrimSpace(a)
			name, rest, _ := strings.Cut(a, " ")
			name, _, _ = strings.Cut(name, ":") // an architecture qualifier
			d := dep{Name: name}
			if rest = strings.Trim(strings.TrimSpace(rest), "()"); rest != "" {
				d.Op, d.Version, _ = strings.Cut(rest, " ")
			}
			if d.Name != "" {
				alts = append(alts, d)
			}
		}
		if len(alts) > 0 {
			groups = append(groups, alts)
		}
	}
	return groups
}

// Apt asks apt-cache and apt-get. Share one among the specs of a run:
// it runs apt-get update at most once.
type Apt struct {
	// show returns apt-cache show output for NAME or NAME=VERSION, or
	// errNotFound.
	show func(ctx context.Context, query string) ([]byte, error)
	// update refreshes the package lists (apt-get update).
	update func(ctx context.Context) error
	// download fetches the packages' .deb files into dir (apt-get
	// download), failing with a *downloadError.
	download func(ctx context.Context, dir string, pkgs []pkg) error
	updated  bool
}

var errNotFound = errors.New("no such package")

// SystemApt is the machine's apt.
func SystemApt() *Apt {
	return &Apt{
		show: func(ctx context.Context, q string) ([]byte, error) {
			cmd := exec.CommandContext(ctx, "apt-cache", "show", "--no-all-versions", q)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil || len(bytes.TrimSpace(out)) == 0 {
				if _, lerr := exec.LookPath("apt-cache"); lerr != nil {
					return nil, fmt.Errorf("apt-cache: %w (Debian kernels need apt)", lerr)
				}
				return nil, fmt.Errorf("%w: %s", errNotFound, strings.TrimSpace(stderr.String()))
			}
			return out, nil
		},
		update: func(ctx context.Context) error {
			if os.Geteuid() != 0 {
				return errors.New("not root: run apt-get update first")
			}
			cmd := exec.CommandContext(ctx, "apt-get", "update", "-qq")
			if out, err := cmd.CombinedOutput(); err != nil {
				return fmt.Errorf("apt-get update: %w: %s", err, out)
			}
			return nil
		},
		download: aptDownload,
	}
}

// lookup is show for one package, refreshing the package lists once when
// it is unknown (a fresh machine's lists may be empty or old).
func (a *Apt) lookup(ctx context.Context, query string) (stanza, error) {
	out, err := a.show(ctx, query)
	if errors.Is(err, errNotFound) && !a.updated {
		a.updated = true
		if uerr := a.update(ctx); uerr != nil {
			err = fmt.Errorf("%w (and the lists could not be refreshed: %w)", err, uerr)
		} else {
			out, err = a.show(ctx, query)
		}
	}
	if err != nil {
		return stanza{}, fmt.Errorf("package %s: %w", query, err)
	}
	s, err := parseStanza(out)
	if err != nil {
		return stanza{}, fmt.Errorf("package %s: %w", query, err)
	}
	return s, nil
}

// resolve names the packages a spec needs: the image first, then the
// headers and what they include (the flavour's headers, the common
// headers, linux-kbuild's scripts).
func (a *Apt) resolve(ctx context.Context, s Spec) ([]pkg, error) {
	var image stanza
	var err error
	if s.Image != "" {
		if image, err = a.lookup(ctx, s.Image); err != nil {
			return nil, err
		}
	} else if image, err = a.flavourImage(ctx, s); err != nil {
		return nil, err
	}
	headers := s.Headers
	if headers == "" {
		headers = strings.TrimSuffix(strings.Replace(image.Name, "linux-image-", "linux-headers-", 1), "-unsigned")
	}
	out := []pkg{image.pkg}
	seen := map[string]bool{image.Name: true}
	queue := []dep{{Name: headers, Op: "=", Version: image.Version}}
	if s.Headers != "" {
		queue[0].Op, queue[0].Version = "", ""
	}
	for len(queue) > 0 {
		d := queue[0]
		queue = queue[1:]
		if seen[d.Name] {
			continue
		}
		seen[d.Name] = true
		q := d.Name
		if d.Op == "=" {
			q += "=" + d.Version
		}
		st, err := a.lookup(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("headers of %s: %w", image.Name, err)
		}
		out = append(out, st.pkg)
		for _, g := range st.Depends {
			for _, alt := range g {
				if strings.HasPrefix(alt.Name, "linux-headers-") || strings.HasPrefix(alt.Name, "linux-kbuild-") {
					queue = append(queue, alt)
					break
				}
			}
		}
	}
	return out, nil
}

// flavourImage finds linux-image-VERSION-FLAVOUR-amd64, following
// meta-packages (linux-image-6.12-cloud-amd64, and for a series,
// linux-image-cloud-amd64 when its version is of that series) to the image.
func (a *Apt) flavourImage(ctx context.Context, s Spec) (stanza, error) {
	suffix := "-" + s.packageFlavour()
	names := []string{"linux-image-" + s.Version + suffix}
	if seriesRE.MatchString(s.Version) {
		names = append(names, "linux-image"+suffix)
	}
	var errs []error
	for _, n := range names {
		st, err := a.lookup(ctx, n)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		// A meta-package has its image's version.
		if seriesRE.MatchString(s.Version) && !strings.HasPrefix(st.Version, s.Version+".") {
			errs = append(errs, fmt.Errorf("package %s is linux %s, not %s", n, st.Version, s.Version))
			continue
		}
		for hops := 0; hops < 4; hops++ {
			next, ok := metaTarget(st, suffix)
			if !ok {
				break
			}
			if st, err = a.lookup(ctx, next.String()); err != nil {
				return stanza{}, err
			}
		}
		if _, ok := metaTarget(st, suffix); ok || imageRE.FindStringSubmatch(st.Name) == nil {
			return stanza{}, fmt.Errorf("package %s: no kernel image behind it", n)
		}
		return st, nil
	}
	return stanza{}, fmt.Errorf("no Debian kernel package found: %w", errors.Join(errs...))
}

// metaTarget is the image a meta-package depends on (exact version).
func metaTarget(st stanza, suffix string) (pkg, bool) {
	for _, g := range st.Depends {
		for _, d := range g {
			if d.Op == "=" && strings.HasPrefix(d.Name, "linux-image-") && d.Name != st.Name &&
				(strings.HasSuffix(d.Name, suffix) || strings.HasSuffix(d.Name, suffix+"-unsigned")) {
				return pkg{d.Name, d.Version}, true
			}
		}
	}
	return pkg{}, false
}
