// Package scenario reads modules/NAME/scenario.yaml, the steps a scenario
// runs in the guest and what each kernel configuration should make of them,
// and evaluates the `when` predicates over a kernel's resolved .config.
//
// Every problem in a file is reported, each as FILE:LINE: message, e.g.
//
//	modules/hello/scenario.yaml:12: unknown key "expct" in step
//
// # File format
//
//	description: The seed's first module prints on load and unload.
//	modules: [hello]      # optional: the .ko files the folder builds (default: all)
//	own_boot: false       # accepted, no effect: every scenario runs in a VM of its own
//	requires: KUNIT       # optional: a predicate; where it does not hold the
//	                      # scenario is SKIP and its modules are not built
//	steps:
//	  - load: hello                # module name; the file is hello.ko
//	    file: hello.ko             # optional, load only
//	    params: "count=3 name=x"   # optional, load only
//	    signed: other-key          # optional, load only: kernel-key, other-key, corrupted or none
//	                               # (default: kernel-key where MODULE_SIG_ALL and the tree's key, else none)
//	    compressed: xz             # optional, load only: gzip, xz, zstd, or xz-corrupted…; the
//	                               # kernel unpacks it (finit_module MODULE_INIT_COMPRESSED_FILE)
//	    timeout: 10s               # optional, any step: the agent's watchdog
//	    built_for: {cell: unload}  # optional, load only: the module as built for another
//	                               # kernel, one of {cell: NAME} (that cell's kernel, same
//	                               # source), {localversion: -other} (this kernel's tree, another
//	                               # LOCALVERSION: only vermagic differs) or {symbol_version:
//	                               # SYMBOL} (this tree with SYMBOL's CRC changed in Module.symvers)
//	    expect:
//	      - when: "!MODULES"
//	        errno: ENOSYS
//	      - when: MODULES
//	        errno: ok              # ok or "" is success
//	        loaded: true           # the module has a /proc/modules line
//	        kmsg: ["hi module being loaded."]
//	  - unload: hello
//	    flags: [force, nonblock]   # delete_module's O_TRUNC, O_NONBLOCK; on a load, force is
//	                               # modprobe --force's MODULE_INIT_IGNORE_MODVERSIONS|_VERMAGIC
//	    expect:
//	      - when: MODULES && !MODULE_UNLOAD
//	        errno: ENOSYS
//	      - when: MODULE_UNLOAD
//	        errno: ok
//	        loaded: false
//	        kmsg: ["hi module being unloaded."]
//	  - check: hello               # observe only; `check:` alone names no module
//	    expect:
//	      - proc_modules: '/\[permanent\],/'
//	        sysfs: {initsize: "0", refcnt: absent, holders: present}
//	        kallsyms: {present: [helper], absent: [hi]}
//	        files: {present: [/dev/foo], absent: [/proc/bar]}
//	        taint_gained: [R]
//	        taint_not_gained: [W]
//	        kmsg_absent: ["Oops"]
//	        kunit: {suite.case_a: pass, suite.case_b: fail, suite.case_c: skip}
//	  - unload: leaky
//	    expect:
//	      - leftovers: [proc /proc/leaky, '/^chrdev \d+ leaky$/']
//	        report: {kind: LEAK, module: leaky}   # or a list; title: a pattern, optional
//	  - load: hang_init
//	    timeout: 5s
//	    expect:
//	      - hung: true             # the step overruns its timeout (the guest is then dead)
//	  - open: /dev/refheld         # open and keep the fd
//	  - close: /dev/refheld
//	  - pause: 500ms
//	  - modprobe: autoload_user    # kmod's modprobe in the guest, dependencies first
//	    params: "count=3"          # optional: module parameters on modprobe's command line
//	    expect:
//	      - status: 0              # modprobe's exit status
//	        output: ["not found"]  # patterns on what it printed
//	  - modprobe: {remove: autoload_user}   # modprobe -r
//	  - write: /proc/sys/kernel/modprobe    # write text to a file (a sysctl, a parameter)
//	    text: /sbin/no-such-modprobe
//	  - repeat: 200                # run these steps 200 times in one boot
//	    steps:
//	      - load: hello
//	        expect: [{when: MODULE_UNLOAD, errno: ok}]
//	      - unload: hello
//	        expect: [{when: MODULE_UNLOAD, errno: ok}]
//	  - concurrent:                # loops running at once in the guest
//	      - repeat: 50
//	        steps: [{load: conc_a}, {unload: conc_a}]
//	      - repeat: 50
//	        steps: [{load: conc_b}, {unload: conc_b}]
//
// A signed or compressed load's file is made on the host from the one
// Kbuild built (package modfile): signed by the kernel tree's own
// scripts/sign-file, then compressed, as modules_install does. Where a
// kernel has MODULE_SIG_ALL and its key is in its tree (a kernel built
// here, not a prebuilt one), every module is signed with that key unless
// its step says otherwise; kernel-key, corrupted and other-key need such a
// tree (give the scenario `requires: MODULE_SIG_ALL`).
//
// A step has exactly one action: load, unload, check, open, close, pause,
// modprobe, write, repeat or concurrent.
//
// modprobe steps, and the kernel's own request_module (which runs
// "MODPROBE_PATH -q -- NAME"), use the guest's /lib/modules/RELEASE: the
// scenario's modules as built for the cell, indexed on the host by
// depmod (modules.dep, modules.alias from MODULE_ALIAS, and the kernel's
// modules.builtin). A modprobe step observes the module of the name it
// gives (check the module an alias loads with a check step); the kmsg
// records its modprobe printed are the step's own; without a status
// condition it must exit 0; it cannot go in a loop. What modprobe or
// request_module loaded is unloaded after the scenario, like the
// scenario's own loads.
// Module names are the kernel's (foo_bar for foo-bar.ko; load it with
// `file: foo-bar.ko`).
//
// Every `expect` block whose `when` holds applies, and all its conditions
// must hold; a block without `when` always applies. Conditions:
//
//   - errno: an errno name (ENOSYS, EAGAIN, EWOULDBLOCK is EAGAIN, …) or ok.
//   - loaded: true or false.
//   - proc_modules: a pattern for the module's /proc/modules line.
//   - sysfs: attribute (a path under /sys/module/NAME) → value, absent,
//     present or (srcversion and version) modinfo. A literal value must
//     equal the file's content (trailing newline dropped); modinfo, the
//     loaded file's .modinfo field of that name, read in the guest.
//   - kallsyms, files: present and absent lists of symbols or paths.
//   - kmsg, kmsg_absent: patterns that must, or must not, occur in the
//     kmsg records of the step.
//   - taint_gained, taint_not_gained: taint letters (P F S R M B U D A W C
//     I O E L K X T N J) the step must, or must not, newly set.
//   - kunit: KUnit case → status (pass or ok, fail, skip, crash). The
//     step's kmsg is read as KTAP (what a KUnit test module prints when it
//     is loaded; see package ktap) and each case, named suite.case (or
//     suite.case.param for a parameter), must report its status. A case
//     the plan announced but the log never printed is crash, named
//     suite.#N. On every step, a case that fails or crashes without being
//     listed is a mismatch. Every case shows in results.json (`kunit` on
//     the scenario result), junit.xml and index.html on its own.
//   - status, output: a modprobe step's exit status (0 to 255) and
//     patterns that must occur in what it printed.
//   - report: a kernel report the step must print: kind (OOPS,
//     NULL_DEREF, GPF, WARNING, BUG, KASAN, LEAK, PANIC, HANG, OOM, …; see
//     harness/kreport/kinds), optionally module (the one the report
//     blames) and title (a pattern). A list asks for each. A step whose
//     blocks expect no report must print none: an unexpected one is FAIL,
//     CRASH for the kinds that are crashes (an oops, a panic).
//   - hung: true when the step is expected to overrun its timeout (a
//     module whose init or exit never returns): the agent's watchdog
//     reports it, and the boot ends with that step.
//   - leftovers: none, or patterns each matching one leftover of the
//     step's module as "KIND NAME" (load and unload steps only; not in
//     loops). See "Resource ledger" below.
//
// A pattern is a literal substring, or a Go regexp written /like this/.
//
// # Resource ledger
//
// Before a module's load (when it is not loaded), the agent lists what a
// module can leave behind in the kernel: /proc entries, /proc/sys,
// /sys/class/*/*, /sys/bus/*/drivers/*, /sys/kernel/*, debugfs's top
// level, /dev, the majors of /proc/devices, /proc/filesystems, kernel
// threads (not kworkers), /proc/interrupts, /proc/slabinfo, and the
// module's /sys/module entry and symbols (protocol.ResourceKinds). After
// the module's unload, or a load whose init failed, it waits --settle
// (1.5 s of guest time: a timer or work item the module left armed fires
// then, inside the step) and lists it all again. Whatever is listed then
// and was not before is a LEFTOVER report of that step and module,
// written "KIND NAME" ("kobject /sys/kernel/foo", "kthread foo_worker",
// "chrdev 250 foo"). Every unload and failed load expects none unless its
// applicable blocks list them with `leftovers:`; an unexpected leftover is
// FAIL. The ledger names entries without opening them: a leftover whose
// list lives in the module's freed memory (a sysctl table, a filesystem
// type) makes the kernel oops when listed, and that oops is the step's.
//
// # Stress: repeat and concurrent
//
// A repeat step runs its steps `repeat` times (1 to 100000) in the guest,
// with no round trip to the host between iterations; every expect block of
// an inner step applies to every iteration. A concurrent step runs two or
// more such loops at once, each in a goroutine of its own (every step, as
// always, in an OS thread of its own); `repeat` defaults to 1 there. The
// agent streams one event per iteration (errno, refcnt, taint, kmsg and
// duration of each inner step) and stops at the first iteration that
// hangs, dies, fails in the agent or prints an oops. The verdict names the
// first failing iteration ("iteration 37/200: unload hello: errno: …"),
// and the step's `stress` record in results.json gives, per loop, the
// iterations that ran, each one's row, and the median and max duration and
// count of each inner step, plus the taint drift over the loop; the table,
// junit.xml (system-out) and index.html show the same figures.
//
// Since every iteration expects the same, a loop should leave the kernel
// as it found it. Where a module cannot be unloaded (MODULE_UNLOAD off) put
// the one load that succeeds before the loop, so that every load inside it
// is EEXIST (see modules/stress-hello). Inner steps cannot loop again, load
// a module built_for another kernel, or expect a hang, KUnit results or a
// crash report. Concurrent loops must act on different modules, cannot
// open or close files, and cannot expect kmsg, kmsg_absent or report: the
// kernel log does not say which loop printed a record (an unexpected
// kernel report still fails the iteration that read it).
//
// # Predicates
//
// `when` is a predicate over Kconfig symbols, written without CONFIG_ (the
// prefix is accepted): SYM holds for y or m; SYM=y, SYM=m, SYM=n (n also
// when unset), SYM=123, SYM=0x10, SYM="text", and != for each; !, && and ||
// with that precedence, and parentheses.
//
// Two kinds of symbol are not CONFIG symbols. KERNELVERSION is the
// kernel's version as `make kernelversion` prints it, compared with <,
// <=, >, >=, = and != (KERNELVERSION >= 6.5): for behaviour that changed
// between releases, not with configuration. CMDLINE.NAME reads the cell's
// kernel command line (its fragments' "# cmdline:" lines): alone it holds
// when the parameter is given (CMDLINE.lockdown), compared it tests the
// value (CMDLINE.module.sig_enforce=1); a parameter given without a value
// is y, an absent one n; dashes and underscores in NAME are the same, as
// to the kernel.
//
// `modmatrix list` checks every file; `modmatrix explain SCENARIO --cell
// NAME` prints which blocks apply on a cell and what they check.
package scenario
