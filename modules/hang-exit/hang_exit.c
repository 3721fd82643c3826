// SPDX-License-Identifier: GPL-2.0
/*
 * hang_exit: the exit routine waits on a completion nobody completes, as
 * an exit that waits for work which will never finish does. delete_module
 * never returns; the agent's step watchdog must catch it. The wait is
 * killable so the guest can still reboot.
 */
#include <linux/completion.h>
#include <linux/init.h>
#include <linux/module.h>

static DECLARE_COMPLETION(never);

static int __init hang_exit_init(void)
{
	return 0;
}

static void __exit hang_exit_exit(void)
{
	pr_info("hang_exit: waiting forever\n");
	if (wait_for_completion_killable(&never))
		pr_info("hang_exit: killed\n");
}

module_init(hang_exit_init);
module_exit(hang_exit_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("exit blocks forever");
