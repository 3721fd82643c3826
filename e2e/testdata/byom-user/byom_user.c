// SPDX-License-Identifier: GPL-2.0
/* A user's module that needs byom_lib, from another folder, loaded first. */
#include <linux/module.h>

int byom_lib_answer(void);

static int __init byom_user_init(void)
{
	pr_info("byom_user: byom_lib answers %d\n", byom_lib_answer());
	return 0;
}

static void __exit byom_user_exit(void)
{
}

module_init(byom_user_init);
module_exit(byom_user_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("modmatrix test: a module using another --module folder's export");
