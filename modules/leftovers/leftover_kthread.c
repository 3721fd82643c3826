// SPDX-License-Identifier: GPL-2.0
/*
 * Starts the kernel thread leftover_kthread in init; the exit routine
 * forgets kthread_stop(), so the thread outlives the module, asleep in the
 * module's freed code (it must never wake: nothing here wakes it).
 * tidy_kthread.c is the correct twin.
 */
#include <linux/completion.h>
#include <linux/err.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/sched.h>

/*
 * init waits until the thread runs: a thread woken but not yet scheduled
 * when the module goes first runs after the unload, straight into freed
 * code (seen on 6.1's debug kernel: an oops at the module's first address).
 * Between complete() and schedule() it still runs module code; on the
 * guest's one CPU without preemption nothing else runs in between.
 */
static DECLARE_COMPLETION(started);

static int leftover_kthread_fn(void *data)
{
	while (!kthread_should_stop()) {
		set_current_state(TASK_INTERRUPTIBLE);
		complete(&started);
		if (!kthread_should_stop())
			schedule();
		__set_current_state(TASK_RUNNING);
	}
	return 0;
}

static int __init leftover_kthread_init(void)
{
	struct task_struct *t = kthread_run(leftover_kthread_fn, NULL, "leftover_kthread");

	if (IS_ERR(t))
		return PTR_ERR(t);
	wait_for_completion(&started);
	return 0;
}

static void __exit leftover_kthread_exit(void)
{
	/* Bug: kthread_stop(t) is missing. */
}

module_init(leftover_kthread_init);
module_exit(leftover_kthread_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("exit forgets its kernel thread");
