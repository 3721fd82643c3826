// SPDX-License-Identifier: GPL-2.0
/* autoload_user: uses autoload_lib, so modules.dep lists it first. */
#include <linux/module.h>

int autoload_lib_answer(void);

static int __init autoload_user_init(void)
{
	pr_info("autoload_user: autoload_lib answers %d\n", autoload_lib_answer());
	return 0;
}

static void __exit autoload_user_exit(void)
{
}

module_init(autoload_user_init);
module_exit(autoload_user_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("modmatrix scenario autoload: needs autoload_lib");
