// SPDX-License-Identifier: GPL-2.0
/*
 * autoload_request: init asks the kernel for modules as drivers do, with
 * request_module(), which runs the usermode helper
 * "CONFIG_MODPROBE_PATH -q -- NAME" (or what /proc/sys/kernel/modprobe
 * says) and waits for it: by name, by alias, and a name nothing provides.
 * It prints what each call returned.
 */
#include <linux/kmod.h>
#include <linux/module.h>

static const char *const names[] = {
	"autoload_target", "modmatrix-autoload-alias", "modmatrix-no-such-module",
};

static int __init autoload_request_init(void)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(names); i++)
		pr_info("autoload_request: request_module(\"%s\") = %d\n", names[i], request_module("%s", names[i]));
	return 0;
}

static void __exit autoload_request_exit(void)
{
}

module_init(autoload_request_init);
module_exit(autoload_request_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("modmatrix scenario autoload: request_module by name and alias");
