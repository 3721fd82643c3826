// SPDX-License-Identifier: GPL-2.0
/* MODULE_VERSION 1.2, always a srcversion */
#include <linux/init.h>
#include <linux/module.h>
#include <linux/printk.h>

static int __init srcv_versioned_init(void)
{
	pr_info("srcv_versioned: loaded\n");
	return 0;
}

static void __exit srcv_versioned_exit(void)
{
	pr_info("srcv_versioned: unloaded\n");
}

module_init(srcv_versioned_init);
module_exit(srcv_versioned_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("modmatrix srcv_versioned: MODULE_VERSION 1.2, always a srcversion");
MODULE_VERSION("1.2");
