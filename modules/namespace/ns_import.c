// SPDX-License-Identifier: GPL-2.0
/* Calls ns_answer() from namespace MODMATRIX_NS, importing it. */
#include <linux/init.h>
#include <linux/module.h>
#include <linux/printk.h>
#include <linux/version.h>

int ns_answer(void);

static int __init ns_import_init(void)
{
	pr_info("ns_import: ns_answer() = %d\n", ns_answer());
	return 0;
}
static void __exit ns_import_exit(void) { }
module_init(ns_import_init);
module_exit(ns_import_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("modmatrix ns_import");
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 13, 0)
MODULE_IMPORT_NS("MODMATRIX_NS");
#else
MODULE_IMPORT_NS(MODMATRIX_NS);
#endif
