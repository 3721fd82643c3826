// SPDX-License-Identifier: GPL-2.0
/*
 * hang_init: init waits on a completion nobody completes. finit_module
 * never returns; the agent's step watchdog must catch it. The wait is
 * killable so the guest can still reboot.
 */
#include <linux/completion.h>
#include <linux/init.h>
#include <linux/module.h>

static DECLARE_COMPLETION(never);

static int __init hang_init_init(void)
{
	pr_info("hang_init: waiting forever\n");
	return wait_for_completion_killable(&never) ? -EINTR : 0;
}

module_init(hang_init_init);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("init blocks forever");
