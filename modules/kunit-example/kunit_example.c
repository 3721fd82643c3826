// SPDX-License-Identifier: GPL-2.0
/*
 * A KUnit test module: loading it runs its two suites (KUnit's module
 * notifier runs them once the module is live, inside finit_module), and
 * the kernel prints their results as KTAP to the kernel log. The cases
 * pass, fail and skip on purpose, so modmatrix can check that each one is
 * reported on its own with the status the module gave it. Needs a kernel
 * with CONFIG_KUNIT; running tests taints the kernel N (TAINT_TEST).
 */
#include <kunit/test.h>
#include <linux/module.h>
#include <linux/string.h>

static void example_pass(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, 1 + 1, 2);
	KUNIT_EXPECT_STREQ(test, "modmatrix", "modmatrix");
}

static void example_fail(struct kunit *test)
{
	/* Wrong on purpose: the case must show up as failed. */
	KUNIT_EXPECT_EQ(test, 1 + 1, 3);
}

static void example_skip(struct kunit *test)
{
	kunit_skip(test, "needs hardware this guest does not have");
	KUNIT_FAIL(test, "not reached: kunit_skip ends the case");
}

static struct kunit_case example_cases[] = {
	KUNIT_CASE(example_pass),
	KUNIT_CASE(example_fail),
	KUNIT_CASE(example_skip),
	{}
};

static struct kunit_suite example_suite = {
	.name = "modmatrix_example",
	.test_cases = example_cases,
};

/* A parameterised case: one KTAP result per parameter, nested a level deeper. */
struct square_case {
	int in, want;
	const char *desc;
};

static const struct square_case square_cases[] = {
	{ 2, 4, "two" },
	{ 3, 9, "three" },
	{ 4, 15, "four" }, /* wrong on purpose */
};

static void square_desc(const struct square_case *c, char *desc)
{
	strscpy(desc, c->desc, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(square, square_cases, square_desc);

static void example_square(struct kunit *test)
{
	const struct square_case *c = test->param_value;

	KUNIT_EXPECT_EQ(test, c->in * c->in, c->want);
}

static struct kunit_case param_cases[] = {
	KUNIT_CASE_PARAM(example_square, square_gen_params),
	{}
};

static struct kunit_suite param_suite = {
	.name = "modmatrix_example_params",
	.test_cases = param_cases,
};

kunit_test_suites(&example_suite, &param_suite);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("modmatrix KUnit example: cases that pass, fail and skip");
