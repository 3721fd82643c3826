// SPDX-License-Identifier: GPL-2.0
/* autoload_target: what autoload_request asks the kernel for by name. */
#include <linux/module.h>

static int __init autoload_target_init(void)
{
	pr_info("autoload_target: loaded\n");
	return 0;
}

static void __exit autoload_target_exit(void)
{
}

module_init(autoload_target_init);
module_exit(autoload_target_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("modmatrix scenario autoload: loaded by request_module by name");
