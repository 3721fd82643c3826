// SPDX-License-Identifier: GPL-2.0
/* An out-of-tree library module: exports one function for byo_user. */
#include <linux/module.h>

int byo_lib_answer(void)
{
	return 42;
}
EXPORT_SYMBOL_GPL(byo_lib_answer);

static int __init byo_lib_init(void)
{
	pr_info("byo_lib: ready\n");
	return 0;
}

static void __exit byo_lib_exit(void)
{
	pr_info("byo_lib: gone\n");
}

module_init(byo_lib_init);
module_exit(byo_lib_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("modmatrix test: a user's library module");
