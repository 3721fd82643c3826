// SPDX-License-Identifier: GPL-2.0
/* autoload_lib: a dependency that modprobe loads before autoload_user. */
#include <linux/module.h>

int autoload_lib_answer(void)
{
	return 42;
}
EXPORT_SYMBOL_GPL(autoload_lib_answer);

static int __init autoload_lib_init(void)
{
	return 0;
}

static void __exit autoload_lib_exit(void)
{
}

module_init(autoload_lib_init);
module_exit(autoload_lib_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("modmatrix scenario autoload: a dependency in modules.dep");
