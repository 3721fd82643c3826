// SPDX-License-Identifier: GPL-2.0
/*
 * autoload_alias: what autoload_request asks the kernel for by an alias,
 * which depmod puts in modules.alias as drivers' device aliases are.
 */
#include <linux/module.h>

static int __init autoload_alias_init(void)
{
	pr_info("autoload_alias: loaded\n");
	return 0;
}

static void __exit autoload_alias_exit(void)
{
}

module_init(autoload_alias_init);
module_exit(autoload_alias_exit);
MODULE_ALIAS("modmatrix-autoload-alias");
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("modmatrix scenario autoload: loaded by request_module by alias");
