// SPDX-License-Identifier: GPL-2.0
/*
 * What the loader frees after init. discard_init is __init: .init.text is
 * freed once init returns, so its symbol leaves /proc/kallsyms and
 * /sys/module/init_discard/initsize reads 0. discard_helper is ordinary
 * text and stays. discard_exit is __exit: .exit.text is kept where
 * CONFIG_MODULE_UNLOAD is set and freed along with the init sections where
 * it is not (the exit routine can never run there).
 */
#include <linux/init.h>
#include <linux/module.h>
#include <linux/printk.h>

static int discard_calls;

/*
 * noinline, and a side effect on a static so the calls cannot be dropped:
 * the symbol must exist in the module's core text.
 */
static noinline int discard_helper(void)
{
	return ++discard_calls;
}

static int __init discard_init(void)
{
	pr_info("init_discard: init, helper call %d\n", discard_helper());
	return 0;
}

static void __exit discard_exit(void)
{
	pr_info("init_discard: exit, helper call %d\n", discard_helper());
}

module_init(discard_init);
module_exit(discard_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("modmatrix init-discard: __init text is freed after load, __exit text only without MODULE_UNLOAD");
