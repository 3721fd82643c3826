// SPDX-License-Identifier: GPL-2.0
/* leftover_kthread.c's twin: the exit routine stops its thread. */
#include <linux/err.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/sched.h>

static struct task_struct *thread;

static int tidy_kthread_fn(void *data)
{
	while (!kthread_should_stop()) {
		set_current_state(TASK_INTERRUPTIBLE);
		if (!kthread_should_stop())
			schedule();
		__set_current_state(TASK_RUNNING);
	}
	return 0;
}

static int __init tidy_kthread_init(void)
{
	thread = kthread_run(tidy_kthread_fn, NULL, "tidy_kthread");
	return PTR_ERR_OR_ZERO(thread);
}

static void __exit tidy_kthread_exit(void)
{
	kthread_stop(thread);
}

module_init(tidy_kthread_init);
module_exit(tidy_kthread_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("stops its kernel thread on exit");
