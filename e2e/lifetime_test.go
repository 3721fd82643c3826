package e2e

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"modmatrix.dev/modmatrix/harness/kconfig"
	"modmatrix.dev/modmatrix/harness/report"
	"modmatrix.dev/modmatrix/harness/verdict"
)

// lifetimeModules are out-of-tree module folders as a user would bring
// them (Kbuild and C, no scenario file), written here rather than taken
// from modules/.
var lifetimeModules = map[string]map[string]string{
	// The exit routine forgets the /proc entry init made.
	"procleak": {
		"Kbuild": "obj-m := proc_leak.o\n",
		"proc_leak.c": `#include <linux/module.h>
#include <linux/proc_fs.h>
static const struct proc_ops ops = {};
static int __init leak_init(void) { return proc_create("modmatrix_e2e_leak", 0444, NULL, &ops) ? 0 : -ENOMEM; }
static void __exit leak_exit(void) { }
module_init(leak_init);
module_exit(leak_exit);
MODULE_LICENSE("GPL");
`,
	},
	// Its correct twin, built from a file with a dash in its name: the
	// kernel calls the module proc_tidy.
	"proctidy": {
		"Kbuild": "obj-m := proc-tidy.o\n",
		"proc-tidy.c": `#include <linux/module.h>
#include <linux/proc_fs.h>
static const struct proc_ops ops = {};
static int __init tidy_init(void) { return proc_create("modmatrix_e2e_tidy", 0444, NULL, &ops) ? 0 : -ENOMEM; }
static void __exit tidy_exit(void) { remove_proc_entry("modmatrix_e2e_tidy", NULL); }
module_init(tidy_init);
module_exit(tidy_exit);
MODULE_LICENSE("GPL");
`,
	},
	// The exit routine arms a timer for a second later, in the module's
	// own memory, which is freed by then.
	"latetimer": {
		"Kbuild": "obj-m := late_timer.o\n",
		"late_timer.c": `#include <linux/jiffies.h>
#include <linux/module.h>
#include <linux/timer.h>
static struct timer_list late;
static void late_fn(struct timer_list *t) { pr_info("late_timer: fired\n"); }
static int __init late_init(void) { timer_setup(&late, late_fn, 0); return 0; }
static void __exit late_exit(void) { mod_timer(&late, jiffies + HZ); }
module_init(late_init);
module_exit(late_exit);
MODULE_LICENSE("GPL");
`,
	},
	// Neither init nor exit routine (a library, a KUnit test module):
	// the kernel unloads it.
	"noroutines": {
		"Kbuild": "obj-m := no_routines.o\n",
		"no_routines.c": `#include <linux/module.h>
int no_routines_answer(void) { return 42; }
EXPORT_SYMBOL_GPL(no_routines_answer);
MODULE_LICENSE("GPL");
`,
	},
}

// TestModuleLifetime: run --module on folders without a scenario file. The
// default scenario walks each module's lifetime twice and fails a cleanup
// bug on every cell that can unload, naming the leftover and the step; the
// twin passes; a timer that fires a second after the unload is CRASH at
// the unload; a module with no routines unloads.
func TestModuleLifetime(t *testing.T) {
	requireTools(t)
	bin := modmatrixBin(t)
	src := t.TempDir()
	out := keptOnFailure(t)
	args := []string{"run", "-q", "--cache", cacheDir(), "--out", out}
	for dir, files := range lifetimeModules {
		for name, text := range files {
			p := filepath.Join(src, dir, name)
			require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
			require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
		}
		args = append(args, "--module", filepath.Join(src, dir))
	}
	text, code := runCLI(t, bin, args...)
	require.Equal(t, 1, code, "%s", text)
	res, err := report.Read(out)
	require.NoError(t, err)
	requireRestoredScenarios(t, res)

	// Every default cell but these two has MODULE_UNLOAD.
	unloads := func(cell string) bool { return cell != "modules-off" && cell != "unload-off" }
	seen := map[string]int{}
	for _, r := range res.Results {
		seen[r.Scenario]++
		where := r.Cell + " " + r.Scenario + ": " + r.Reason
		switch {
		case !unloads(r.Cell):
			assert.Equal(t, verdict.Pass, r.Verdict, where)
		case r.Scenario == "procleak":
			assert.Equal(t, verdict.Fail, r.Verdict, where)
			assert.Contains(t, r.Reason, "(unload proc_leak, ", where)
			assert.Contains(t, r.Reason, "leftover proc /proc/modmatrix_e2e_leak", where)
		case r.Scenario == "latetimer":
			assert.Equal(t, verdict.Crash, r.Verdict, where)
			assert.Contains(t, r.Reason, "(unload late_timer, ", where)
			assert.Contains(t, r.Reason, "late_timer", where)
		default:
			assert.Equal(t, verdict.Pass, r.Verdict, where)
		}
		if r.Scenario == "proctidy" && r.Cell == "unload" {
			require.NotEmpty(t, r.Steps)
			assert.Equal(t, "proc_tidy", r.Steps[0].Module, "the kernel's name of proc-tidy.ko")
			assert.Len(t, r.Steps, 6, "load, unload, check gone; twice")
			require.NotNil(t, r.Steps[1].Ledger, "the unload compares with the load's baseline")
			assert.True(t, r.Steps[1].Ledger.Compared)
		}
	}
	_, cells, err := kconfig.LoadCells(filepath.Join(repoRoot(t), "kconfigs"))
	require.NoError(t, err)
	require.Len(t, res.Cells, len(cells), "every default cell ran")
	for dir := range lifetimeModules {
		assert.Equal(t, len(cells), seen[dir], "%s on every default cell", dir)
	}
}
