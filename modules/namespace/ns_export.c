// SPDX-License-Identifier: GPL-2.0
/* Exports ns_answer() in the symbol namespace MODMATRIX_NS. */
#include <linux/init.h>
#include <linux/module.h>
#include <linux/version.h>

int ns_answer(void)
{
	return 42;
}
/* 6.13 made the namespace a string literal; 6.12 and 6.1 stringify it. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 13, 0)
EXPORT_SYMBOL_NS_GPL(ns_answer, "MODMATRIX_NS");
#else
EXPORT_SYMBOL_NS_GPL(ns_answer, MODMATRIX_NS);
#endif

static int __init ns_export_init(void) { return 0; }
static void __exit ns_export_exit(void) { }
module_init(ns_export_init);
module_exit(ns_export_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("modmatrix ns_export: a symbol in namespace MODMATRIX_NS");
