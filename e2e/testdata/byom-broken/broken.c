// SPDX-License-Identifier: GPL-2.0
/* Does not compile: the error must reach the user with module and kernel named. */
#include <linux/module.h>

static int __init broken_init(void)
{
	return undeclared_thing;
}
module_init(broken_init);
MODULE_LICENSE("GPL");
