// SPDX-License-Identifier: GPL-2.0
/* An out-of-tree module that needs byo_lib loaded first. */
#include <linux/module.h>

int byo_lib_answer(void);

static int __init byo_user_init(void)
{
	pr_info("byo_user: byo_lib answers %d\n", byo_lib_answer());
	return 0;
}

static void __exit byo_user_exit(void)
{
	pr_info("byo_user: gone\n");
}

module_init(byo_user_init);
module_exit(byo_user_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("modmatrix test: a user's module that depends on byo_lib");
