// SPDX-License-Identifier: GPL-2.0
/*
 * The simplest module: prints on load and unload. Its exit routine makes it
 * removable where CONFIG_MODULE_UNLOAD allows, and "bye" shows in
 * /proc/kallsyms only there (.exit.text is discarded otherwise).
 */
#include <linux/init.h>
#include <linux/module.h>
#include <linux/printk.h>

static int __init hi(void)
{
	printk(KERN_INFO "hi module being loaded.\n");
	return 0;
}

static void __exit bye(void)
{
	printk(KERN_INFO "hi module being unloaded.\n");
}

module_init(hi);
module_exit(bye);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("modmatrix hello: prints on load and unload");
