package distro

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseSpec(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Spec
		err  string
	}{
		{in: "debian-cloud-6.12", want: Spec{Flavour: "cloud", Version: "6.12", Cell: "debian-cloud"}},
		{in: "debian-amd64-6.12", want: Spec{Flavour: "amd64", Version: "6.12", Cell: "debian-amd64"}},
		{in: "debian-cloud-6.1", want: Spec{Flavour: "cloud", Version: "6.1", Cell: "debian-cloud"}},
		{in: "debian-cloud-6.12.115+deb12", want: Spec{Flavour: "cloud", Version: "6.12.115+deb12", Cell: "debian-cloud"}},
		{in: "debian-cloud-6.1.0-55", want: Spec{Flavour: "cloud", Version: "6.1.0-55", Cell: "debian-cloud"}},
		{in: "deb:linux-image-6.12.117+deb12-cloud-amd64-unsigned,linux-headers-6.12.117+deb12-cloud-amd64",
			want: Spec{Image: "linux-image-6.12.117+deb12-cloud-amd64-unsigned", Headers: "linux-headers-6.12.117+deb12-cloud-amd64", Cell: "debian-cloud"}},
		{in: "deb:linux-image-6.1.0-56-rt-amd64,linux-headers-6.1.0-56-rt-amd64",
			want: Spec{Image: "linux-image-6.1.0-56-rt-amd64", Headers: "linux-headers-6.1.0-56-rt-amd64", Cell: "debian-rt"}},
		{in: "vmlinuz=/boot/vmlinuz-x,headers=/usr/src/h",
			want: Spec{Vmlinuz: "/boot/vmlinuz-x", HeadersDir: "/usr/src/h", Config: "/usr/src/h/.config", Cell: "prebuilt"}},
		{in: "vmlinuz=v,headers=h,config=c,cell=mine",
			want: Spec{Vmlinuz: "v", HeadersDir: "h", Config: "c", Cell: "mine"}},
		{in: "debian-cloud", err: "unknown form"},
		{in: "6.12", err: "unknown form"},
		{in: "deb:linux-image-6.12.117+deb12-cloud-amd64", err: "two package names"},
		{in: "deb:hello,linux-headers-6.12", err: "not a linux-image-VERSION-FLAVOUR"},
		{in: "vmlinuz=v", err: "vmlinuz= and headers= are both needed"},
		{in: "vmlinuz=v,headers=h,initrd=i", err: "unknown key initrd"},
		{in: "vmlinuz=v,headers=h,cell=a/b", err: "not a plain name"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseSpec(tc.in)
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				assert.Contains(t, err.Error(), tc.in)
				return
			}
			require.NoError(t, err)
			tc.want.Text = tc.in
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.want.Vmlinuz == "", got.Debian())
		})
	}
}

func TestParseDepends(t *testing.T) {
	got := parseDepends("linux-base (>= 4.12~), linux-headers-6.12.117+deb12-common (= 6.12.117-1~deb12u1), " +
		"linux-image-6.12.117+deb12-cloud-amd64 (= 6.12.117-1~deb12u1) | linux-image-6.12.117+deb12-cloud-amd64-unsigned (= 6.12.117-1~deb12u1), linux-kbuild-6.12.117+deb12, gcc-12:amd64")
	assert.Equal(t, [][]dep{
		{{"linux-base", ">=", "4.12~"}},
		{{"linux-headers-6.12.117+deb12-common", "=", "6.12.117-1~deb12u1"}},
		{{"linux-image-6.12.117+deb12-cloud-amd64", "=", "6.12.117-1~deb12u1"}, {"linux-image-6.12.117+deb12-cloud-amd64-unsigned", "=", "6.12.117-1~deb12u1"}},
		{{"linux-kbuild-6.12.117+deb12", "", ""}},
		{{"gcc-12", "", ""}},
	}, got)
}

// recordedApt answers from testdata/apt-cache (real apt-cache output).
func recordedApt(t *testing.T) (*Apt, *[]string) {
	var asked []string
	return &Apt{
		show: func(_ context.Context, q string) ([]byte, error) {
			asked = append(asked, q)
			name := strings.NewReplacer("=", "@", "~", "_").Replace(q)
			data, err := os.ReadFile(filepath.Join("testdata", "apt-cache", name))
			if errors.Is(err, os.ErrNotExist) {
				return nil, errNotFound
			}
			return data, err
		},
		update: func(context.Context) error { asked = append(asked, "update"); return nil },
	}, &asked
}

func TestResolve(t *testing.T) {
	for _, tc := range []struct {
		spec string
		want []string
	}{
		{"debian-cloud-6.12", []string{
			"linux-image-6.12.117+deb12-cloud-amd64=6.12.117-1~deb12u1",
			"linux-headers-6.12.117+deb12-cloud-amd64=6.12.117-1~deb12u1",
			"linux-headers-6.12.117+deb12-common=6.12.117-1~deb12u1",
			"linux-kbuild-6.12.117+deb12=6.12.117-1~deb12u1",
		}},
		// 6.1's meta-package has no series in its name.
		{"debian-cloud-6.1", []string{
			"linux-image-6.1.0-56-cloud-amd64=6.1.192-2",
			"linux-headers-6.1.0-56-cloud-amd64=6.1.192-2",
			"linux-headers-6.1.0-56-common=6.1.192-2",
			"linux-kbuild-6.1=6.1.192-2",
		}},
		{"debian-cloud-6.1.0-56", []string{
			"linux-image-6.1.0-56-cloud-amd64=6.1.192-2",
			"linux-headers-6.1.0-56-cloud-amd64=6.1.192-2",
			"linux-headers-6.1.0-56-common=6.1.192-2",
			"linux-kbuild-6.1=6.1.192-2",
		}},
	} {
		t.Run(tc.spec, func(t *testing.T) {
			s, err := ParseSpec(tc.spec)
			require.NoError(t, err)
			a, _ := recordedApt(t)
			got, err := a.resolve(context.Background(), s)
			require.NoError(t, err)
			var names []string
			for _, p := range got {
				names = append(names, p.String())
			}
			assert.Equal(t, tc.want, names)
		})
	}
}

func TestResolveUnknownUpdatesOnce(t *testing.T) {
	s, err := ParseSpec("debian-cloud-6.99")
	require.NoError(t, err)
	a, asked := recordedApt(t)
	_, err = a.resolve(context.Background(), s)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "linux-image-6.99-cloud-amd64")
	// The generic meta-package is 6.1: not taken for 6.99.
	assert.Contains(t, err.Error(), "is linux 6.1.192-2, not 6.99")
	assert.Equal(t, []string{"linux-image-6.99-cloud-amd64", "update", "linux-image-6.99-cloud-amd64", "linux-image-cloud-amd64"}, *asked)
}

func TestRelinkAndInclude(t *testing.T) {
	root := t.TempDir()
	hdr := filepath.Join(root, "usr/src/linux-headers-6.12.117+deb12-cloud-amd64")
	require.NoError(t, os.MkdirAll(hdr, 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(root, "usr/lib/linux-kbuild-6.12.117+deb12/scripts"), 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(root, "lib/modules/6.12.117+deb12-cloud-amd64"), 0o755))
	require.NoError(t, os.Symlink("../../lib/linux-kbuild-6.12.117+deb12/scripts", filepath.Join(hdr, "scripts")))
	require.NoError(t, os.Symlink("/usr/src/linux-headers-6.12.117+deb12-cloud-amd64", filepath.Join(root, "lib/modules/6.12.117+deb12-cloud-amd64/build")))
	require.NoError(t, os.Symlink("../../../../etc/elsewhere", filepath.Join(hdr, "outside")))
	require.NoError(t, os.WriteFile(filepath.Join(hdr, "Makefile"), []byte("include /usr/src/linux-headers-6.12.117+deb12-common/Makefile\n"), 0o644))

	inc, ok := includedTree(filepath.Join(hdr, "Makefile"))
	require.True(t, ok)
	assert.Equal(t, "/usr/src/linux-headers-6.12.117+deb12-common", inc)

	const final = "/cache/distro/e/root"
	require.NoError(t, relink(root, final))
	require.NoError(t, rewriteInclude(filepath.Join(hdr, "Makefile"), final))
	link := func(p string) string {
		t.Helper()
		l, err := os.Readlink(filepath.Join(root, p))
		require.NoError(t, err)
		return l
	}
	assert.Equal(t, final+"/usr/lib/linux-kbuild-6.12.117+deb12/scripts", link("usr/src/linux-headers-6.12.117+deb12-cloud-amd64/scripts"))
	assert.Equal(t, final+"/usr/src/linux-headers-6.12.117+deb12-cloud-amd64", link("lib/modules/6.12.117+deb12-cloud-amd64/build"))
	assert.Equal(t, "../../../../etc/elsewhere", link("usr/src/linux-headers-6.12.117+deb12-cloud-amd64/outside"))
	mk, err := os.ReadFile(filepath.Join(hdr, "Makefile"))
	require.NoError(t, err)
	assert.Equal(t, "include "+final+"/usr/src/linux-headers-6.12.117+deb12-common/Makefile\n", string(mk))
}
