// SPDX-License-Identifier: GPL-2.0
/* A user's library module in a folder of its own: byom-user uses it. */
#include <linux/module.h>

int byom_lib_answer(void)
{
	return 42;
}
EXPORT_SYMBOL_GPL(byom_lib_answer);

static int __init byom_lib_init(void)
{
	return 0;
}

static void __exit byom_lib_exit(void)
{
}

module_init(byom_lib_init);
module_exit(byom_lib_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("modmatrix test: a library another --module folder builds against");
