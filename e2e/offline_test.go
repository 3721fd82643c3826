package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"modmatrix.dev/modmatrix/harness/distro"
	"modmatrix.dev/modmatrix/harness/report"
)

// offlineApt is an APT_CONFIG that leaves apt no way out: every fetch
// goes through a proxy on the discard port, where nothing listens, and is
// not tried again. APT_CONFIG is read first and adds to the machine's
// configuration (apt 2.6 still reads /etc/apt/apt.conf.d/ after it, and
// /etc/apt/apt.conf), so the test checks that the proxy is what apt ends
// up with. The package lists stay the machine's: apt-cache still
// resolves, apt-get download cannot fetch.
const offlineApt = `Acquire::http::Proxy "http://127.0.0.1:9/";
Acquire::https::Proxy "http://127.0.0.1:9/";
Acquire::Retries "0";
`

// unusableLists adds lists that are not there (and no package cache to
// fall back on, nor one written over the machine's): apt-cache knows no
// package and apt-get update fails.
const unusableLists = `Dir::State::Lists "%s/";
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
`

// aptConfig writes an APT_CONFIG file and checks that apt takes it.
func aptConfig(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "apt.conf")
	require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
	cmd := exec.Command("apt-config", "dump")
	cmd.Env = append(os.Environ(), "APT_CONFIG="+p)
	out, err := cmd.Output()
	require.NoError(t, err)
	assert.Contains(t, string(out), `Acquire::http::Proxy "http://127.0.0.1:9/";`, "nothing in /etc/apt overrides the proxy")
	return p
}

// requireDownloadFails checks that apt-get download really fails, and
// fast, under the config: a small real package.
func requireDownloadFails(t *testing.T, conf string) {
	t.Helper()
	args := []string{"download", "-q"}
	if os.Geteuid() == 0 {
		args = append(args, "-o", "APT::Sandbox::User=root")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "apt-get", append(args, "linux-image-cloud-amd64")...)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "APT_CONFIG="+conf)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	took := time.Since(start)
	require.Error(t, err, "apt-get download worked under %s:\n%s", conf, out)
	require.Contains(t, string(out), "127.0.0.1:9")
	require.Less(t, took, 10*time.Second, "fails fast")
	t.Logf("apt-get download under the offline config: %v in %v: %s", err, took.Round(time.Millisecond), lastLine(string(out)))
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// aptShim puts an apt-get first in PATH that logs its arguments, one call
// a line, then runs the real one.
func aptShim(t *testing.T) (path, log string) {
	t.Helper()
	real, err := exec.LookPath("apt-get")
	require.NoError(t, err)
	dir := t.TempDir()
	log = filepath.Join(dir, "calls")
	script := "#!/bin/sh\necho \"$*\" >> " + log + "\nexec " + real + " \"$@\"\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "apt-get"), []byte(script), 0o755))
	return dir + string(os.PathListSeparator) + os.Getenv("PATH"), log
}

func calls(t *testing.T, log string) string {
	t.Helper()
	b, err := os.ReadFile(log)
	if os.IsNotExist(err) {
		return ""
	}
	require.NoError(t, err)
	return string(b)
}

// TestOffline runs Debian's 6.12 cloud kernel with apt unable to
// download anything. Without a cached copy the run is refused before
// anything is built (exit 2), saying which packages apt could not
// download and why, and that the cache has none; nothing is left in
// CACHE/distro. With a copy in the cache the run takes it without calling
// apt-get download, and passes; so too when apt-cache cannot even resolve
// the series (its lists unusable), with a note naming the copy taken.
func TestOffline(t *testing.T) {
	requireDistroTools(t)
	offline := aptConfig(t, offlineApt)
	requireDownloadFails(t, offline)
	bin := modmatrixBin(t)

	t.Run("no cached copy", func(t *testing.T) {
		cache, out := t.TempDir(), t.TempDir()
		path, log := aptShim(t)
		text, code := runCLIEnv(t, []string{"APT_CONFIG=" + offline, "PATH=" + path}, bin,
			"run", "-q", "--kernel", "debian-cloud-6.12", "--scenarios", "hello", "--cache", cache, "--out", out)
		t.Logf("exit %d:\n%s", code, text)
		assert.Equal(t, 2, code, "refused before any build")
		assert.Regexp(t, `modmatrix: --kernel debian-cloud-6\.12: apt-get download linux-image-6\.12\.\S+-cloud-amd64=\S+ linux-headers-`, text)
		assert.Contains(t, text, "failed (exit status 100): E: Failed to fetch")
		assert.Contains(t, text, "connect to 127.0.0.1:9") // "Could not" for one file, "Unable to" for several
		assert.Contains(t, text, "no copy of them is cached in "+filepath.Join(cache, "distro")+", nor any other 6.12 cloud kernel")
		assert.NotContains(t, text, ".tmp-", "no temporary named")
		assert.Contains(t, calls(t, log), "download", "apt-get download was asked")

		temps, err := filepath.Glob(filepath.Join(cache, "distro", ".tmp-*"))
		require.NoError(t, err)
		assert.Empty(t, temps, "nothing left behind in CACHE/distro")
		entries, err := filepath.Glob(filepath.Join(cache, "distro", "linux-image-*"))
		require.NoError(t, err)
		for _, e := range entries {
			assert.True(t, strings.HasSuffix(e, ".lock"), "no entry: %s", e)
		}
		assert.NotRegexp(t, `\bPASS\b`, text)
		if res, err := report.Read(filepath.Join(out, "results.json")); err == nil {
			assert.Empty(t, res.Results, "no result claims anything")
		}
	})

	// The shared cache, with the packages apt resolves now fetched into
	// it the way a run does (a download on a cold machine, a hit on a
	// warm one).
	ctx := testContext(t, 30*time.Minute)
	spec, err := distro.ParseSpec("debian-cloud-6.12")
	require.NoError(t, err)
	k, err := distro.Get(ctx, cacheDir(), distro.SystemApt(), spec)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("filling the cache needs apt online: %v", err)
		}
		t.Skipf("filling the cache needs apt online: %v", err)
	}
	t.Logf("cached: %v (%s)", k.Packages, k.Kernel.Dir)

	t.Run("cached copy", func(t *testing.T) {
		path, log := aptShim(t)
		text, code := runCLIEnv(t, []string{"APT_CONFIG=" + offline, "PATH=" + path}, bin,
			"run", "--kernel", "debian-cloud-6.12", "--scenarios", "hello", "--cache", cacheDir(), "--out", t.TempDir())
		t.Logf("exit %d:\n%s", code, text)
		require.Equal(t, 0, code)
		assert.Regexp(t, `hello\s+PASS`, text)
		assert.NotContains(t, calls(t, log), "download", "a hit downloads nothing")
		assert.NotContains(t, text, "apt could not", "apt resolved it: no note")
	})

	t.Run("lists unusable, cached copy", func(t *testing.T) {
		conf := aptConfig(t, offlineApt+strings.Replace(unusableLists, "%s", filepath.Join(t.TempDir(), "lists"), 1))
		path, log := aptShim(t)
		text, code := runCLIEnv(t, []string{"APT_CONFIG=" + conf, "PATH=" + path}, bin,
			"run", "--kernel", "debian-cloud-6.12", "--scenarios", "hello", "--cache", cacheDir(), "--out", t.TempDir())
		t.Logf("exit %d:\n%s", code, text)
		require.Equal(t, 0, code)
		assert.Regexp(t, `hello\s+PASS`, text)
		assert.Regexp(t, `apt could not resolve it, so the newest match in the cache: linux-image-6\.12\.`, text)
		assert.NotContains(t, calls(t, log), "download")
		if os.Geteuid() == 0 {
			assert.Contains(t, calls(t, log), "update", "the lists were refreshed once, in vain")
		}
	})
}
