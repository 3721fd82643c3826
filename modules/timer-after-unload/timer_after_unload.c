// SPDX-License-Identifier: GPL-2.0
/*
 * A timer that re-arms itself every second, which the exit routine forgets
 * to delete (del_timer_sync is missing): within a second of the unload it
 * fires into the module's freed code.
 */
#include <linux/jiffies.h>
#include <linux/module.h>
#include <linux/printk.h>
#include <linux/timer.h>

static struct timer_list tick;

static void tick_fn(struct timer_list *t)
{
	mod_timer(&tick, jiffies + HZ);
}

static int __init timer_after_unload_init(void)
{
	timer_setup(&tick, tick_fn, 0);
	mod_timer(&tick, jiffies + HZ);
	return 0;
}

static void __exit timer_after_unload_exit(void)
{
	/* Bug: del_timer_sync(&tick) is missing. */
	pr_info("timer_after_unload: exit, timer still armed\n");
}

module_init(timer_after_unload_init);
module_exit(timer_after_unload_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("exit forgets a self-rearming timer");
