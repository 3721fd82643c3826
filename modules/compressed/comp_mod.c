// SPDX-License-Identifier: GPL-2.0
/* loaded from a compressed file the kernel unpacks */
#include <linux/init.h>
#include <linux/module.h>
#include <linux/printk.h>

static int __init comp_mod_init(void)
{
	pr_info("comp_mod: loaded\n");
	return 0;
}

static void __exit comp_mod_exit(void)
{
	pr_info("comp_mod: unloaded\n");
}

module_init(comp_mod_init);
module_exit(comp_mod_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("modmatrix comp_mod: loaded from a compressed file the kernel unpacks");
