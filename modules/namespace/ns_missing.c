// SPDX-License-Identifier: GPL-2.0
/* Calls ns_answer() from namespace MODMATRIX_NS without importing it. */
#include <linux/init.h>
#include <linux/module.h>
#include <linux/printk.h>
#include <linux/version.h>

int ns_answer(void);

static int __init ns_missing_init(void)
{
	pr_info("ns_missing: ns_answer() = %d\n", ns_answer());
	return 0;
}
static void __exit ns_missing_exit(void) { }
module_init(ns_missing_init);
module_exit(ns_missing_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("modmatrix ns_missing");
