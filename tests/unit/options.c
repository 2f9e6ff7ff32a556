// SPDX-License-Identifier: GPL-2.0
/* Unit tests: the kavm command line, good and bad. */
#include <kavm/log.h>

/* options.c belongs to the kavm binary, not libkavm.a: test it as is. */
#include "../../userspace/options.c"

#include "../harness.h"

#define PARSE(cfg, ...)                                                                            \
	({                                                                                         \
		char *argv[] = { "kavm", __VA_ARGS__, NULL };                                      \
		options_parse(ARRAY_SIZE(argv) - 1, argv, cfg);                                    \
	})

static void quiet(void)
{
	log_level = LOG_LEVEL_ERR - 1;
}

TEST(defaults_and_a_full_command_line)
{
	struct vm_config cfg;

	quiet();
	ASSERT_EQ(PARSE(&cfg, "--kernel", "/k"), 0);
	EXPECT_STREQ(cfg.kernel_path, "/k");
	EXPECT_EQ(cfg.mem_size, 512ULL << 20);
	EXPECT_EQ(cfg.nr_cpus, 1u);
	EXPECT_TRUE(cfg.initrd_path == NULL);
	ASSERT_EQ(PARSE(&cfg, "-k", "/k", "--initrd", "/i", "--cmdline", "console=ttyS0",
			"--memory", "2G", "--cpus", "4", "--serial", "file:/tmp/x",
			"--cpu-features", "-cx16,-xsave"),
		  0);
	EXPECT_STREQ(cfg.initrd_path, "/i");
	EXPECT_STREQ(cfg.cmdline, "console=ttyS0");
	EXPECT_EQ(cfg.mem_size, 2ULL << 30);
	EXPECT_EQ(cfg.nr_cpus, 4u);
	EXPECT_STREQ(cfg.serial, "file:/tmp/x");
	ASSERT_EQ(cfg.nr_features, 2u);
	EXPECT_STREQ(cfg.features[0].name, "cx16");
	EXPECT_EQ(cfg.features[0].function, 1u);
	EXPECT_EQ(cfg.features[0].bit, 13);
	EXPECT_FALSE(cfg.features[0].set);
	EXPECT_STREQ(cfg.features[1].name, "xsave");
}

TEST(memory_sizes_and_suffixes)
{
	unsigned long long b;

	EXPECT_EQ(parse_mem_size("512M", &b), 0);
	EXPECT_EQ(b, 512ULL << 20);
	EXPECT_EQ(parse_mem_size("3g", &b), 0);
	EXPECT_EQ(b, 3ULL << 30);
	EXPECT_EQ(parse_mem_size("65536K", &b), 0);
	EXPECT_EQ(b, 64ULL << 20);
	EXPECT_EQ(parse_mem_size("256", &b), 0);
	EXPECT_EQ(b, 256ULL << 20);
	EXPECT_EQ(parse_mem_size("", &b), -EINVAL);
	EXPECT_EQ(parse_mem_size("-1G", &b), -EINVAL);
	EXPECT_EQ(parse_mem_size("12X", &b), -EINVAL);
	EXPECT_EQ(parse_mem_size("1GB", &b), -EINVAL);
	EXPECT_EQ(parse_mem_size("99999999999999999999", &b), -ERANGE);
	EXPECT_EQ(parse_mem_size("99999999999T", &b), -ERANGE);
}

TEST(bad_values_are_refused)
{
	struct vm_config cfg;

	quiet();
	EXPECT_EQ(PARSE(&cfg, "--kernel", "/k", "--memory", "0"), -EINVAL);
	EXPECT_EQ(PARSE(&cfg, "--kernel", "/k", "--memory", "1M"), -EINVAL);
	EXPECT_EQ(PARSE(&cfg, "--kernel", "/k", "--memory", "4T"), -EINVAL);
	EXPECT_EQ(PARSE(&cfg, "--kernel", "/k", "--memory", "lots"), -EINVAL);
	EXPECT_EQ(PARSE(&cfg, "--kernel", "/k", "--cpus", "0"), -EINVAL);
	EXPECT_EQ(PARSE(&cfg, "--kernel", "/k", "--cpus", "255"), -EINVAL);
	EXPECT_EQ(PARSE(&cfg, "--kernel", "/k", "--cpus", "-1"), -EINVAL);
	EXPECT_EQ(PARSE(&cfg, "--kernel", "/k", "--cpus", "2x"), -EINVAL);
	EXPECT_EQ(PARSE(&cfg, "--kernel", "/k", "--cpu-features", "-nosuch"), -EINVAL);
	EXPECT_EQ(PARSE(&cfg, "--kernel", "/k", "--cpu-features", "cx16"), -EINVAL);
	EXPECT_EQ(PARSE(&cfg, "--kernel", "/k", "--serial", "tcp:1"), -EINVAL);
	EXPECT_EQ(PARSE(&cfg, "--kernel", "/k", "--serial", "file:"), -EINVAL);
}

TEST(unknown_options_missing_arguments_and_no_kernel_are_refused)
{
	struct vm_config cfg;

	quiet();
	EXPECT_EQ(PARSE(&cfg, "--kernel", "/k", "--bogus"), -EINVAL);
	EXPECT_EQ(PARSE(&cfg, "--kernel", "/k", "-Z"), -EINVAL);
	EXPECT_EQ(PARSE(&cfg, "--kernel"), -EINVAL);
	EXPECT_EQ(PARSE(&cfg, "--cpus", "2"), -EINVAL);
	EXPECT_EQ(PARSE(&cfg, "--kernel", "/k", "stray"), -EINVAL);
}

TEST(netdevs_and_nics_are_stored_in_order)
{
	struct vm_config cfg;

	quiet();
	ASSERT_EQ(PARSE(&cfg, "--kernel", "/k", "--netdev", "tap,id=n0,ifname=tap0", "--device",
			"virtio-net-pci,netdev=n0,mac=52:54:00:aa:bb:cc", "--netdev",
			"tap,id=n1,fd=5,vnet_hdr=off", "--device", "virtio-net-pci,netdev=n1"),
		  0);
	ASSERT_EQ(cfg.nr_netdevs, 2u);
	ASSERT_EQ(cfg.nr_nics, 2u);
	EXPECT_STREQ(cfg.netdevs[0].type, "tap");
	EXPECT_STREQ(cfg.netdevs[0].ifname, "tap0");
	EXPECT_EQ(cfg.netdevs[0].fd, -1);
	EXPECT_EQ(cfg.netdevs[1].fd, 5);
	EXPECT_EQ(cfg.netdevs[1].vnet_hdr, 0);
	EXPECT_STREQ(cfg.nics[0].netdev, "n0");
	EXPECT_TRUE(cfg.nics[0].has_mac);
	EXPECT_EQ(cfg.nics[0].mac[5], 0xcc);
	EXPECT_STREQ(cfg.nics[1].netdev, "n1");
	EXPECT_FALSE(cfg.nics[1].has_mac);
	/* A second parse starts from nothing. */
	ASSERT_EQ(PARSE(&cfg, "--kernel", "/k"), 0);
	EXPECT_EQ(cfg.nr_netdevs, 0u);
	EXPECT_EQ(cfg.nr_nics, 0u);
}

TEST(bad_netdevs_and_nics_are_refused)
{
	struct vm_config cfg;

	quiet();
	EXPECT_EQ(PARSE(&cfg, "--kernel", "/k", "--netdev", "tap,id=n0", "--device",
			"virtio-net-pci,netdev=n1"),
		  -EINVAL);
	EXPECT_EQ(PARSE(&cfg, "--kernel", "/k", "--netdev", "tap,id=n0", "--device",
			"virtio-net-pci,netdev=n0", "--device", "virtio-net-pci,netdev=n0"),
		  -EINVAL);
	EXPECT_EQ(PARSE(&cfg, "--kernel", "/k", "--netdev", "tap,id=n0", "--netdev",
			"tap,id=n0,ifname=t1"),
		  -EINVAL);
	EXPECT_EQ(PARSE(&cfg, "--kernel", "/k", "--netdev", "slirp,id=n0"), -EINVAL);
	EXPECT_EQ(PARSE(&cfg, "--kernel", "/k", "--netdev", "tap,ifname=t0"), -EINVAL);
	EXPECT_EQ(PARSE(&cfg, "--kernel", "/k", "--device", "e1000,netdev=n0"), -EINVAL);
	EXPECT_EQ(PARSE(&cfg, "--kernel", "/k", "--device", "virtio-net-pci"), -EINVAL);
	EXPECT_EQ(PARSE(&cfg, "--kernel", "/k", "--netdev", "tap,id=n0", "--device",
			"virtio-net-pci,netdev=n0,mac=01:00:00:00:00:01"),
		  -EINVAL);
}

TEST(at_most_eight_nics)
{
	char *argv[3 + 9 * 4 + 1] = { "kavm", "--kernel", "/k" };
	char spec[9][2][48];
	struct vm_config cfg;
	int i, n = 3;

	quiet();
	for (i = 0; i < 9; i++) {
		snprintf(spec[i][0], sizeof(spec[i][0]), "tap,id=n%d", i);
		snprintf(spec[i][1], sizeof(spec[i][1]), "virtio-net-pci,netdev=n%d", i);
		argv[n++] = "--netdev";
		argv[n++] = spec[i][0];
		argv[n++] = "--device";
		argv[n++] = spec[i][1];
		if (i == 7) {
			argv[n] = NULL;
			EXPECT_EQ(options_parse(n, argv, &cfg), 0);
			EXPECT_EQ(cfg.nr_nics, 8u);
		}
	}
	argv[n] = NULL;
	EXPECT_EQ(options_parse(n, argv, &cfg), -EINVAL);
}

TEST(acpi_is_on_unless_no_acpi_and_dump_acpi_needs_no_kernel)
{
	struct vm_config cfg;

	quiet();
	ASSERT_EQ(PARSE(&cfg, "--kernel", "/k"), 0);
	EXPECT_TRUE(cfg.acpi);
	EXPECT_TRUE(cfg.dump_acpi_dir == NULL);
	ASSERT_EQ(PARSE(&cfg, "--kernel", "/k", "--no-acpi"), 0);
	EXPECT_FALSE(cfg.acpi);
	ASSERT_EQ(PARSE(&cfg, "--dump-acpi", "/tmp/t", "--cpus", "8"), 0);
	EXPECT_STREQ(cfg.dump_acpi_dir, "/tmp/t");
	EXPECT_EQ(cfg.nr_cpus, 8u);
	EXPECT_EQ(PARSE(&cfg, "--dump-acpi", "/tmp/t", "--no-acpi"), -EINVAL);
}

TEST(help_asks_to_exit_zero)
{
	struct vm_config cfg;
	FILE *old = stdout;

	stdout = fopen("/dev/null", "w");
	EXPECT_EQ(PARSE(&cfg, "--help"), 1);
	fclose(stdout);
	stdout = old;
}

TEST(qemu_one_dash_spellings_are_the_long_options)
{
	struct vm_config cfg;

	quiet();
	ASSERT_EQ(PARSE(&cfg, "-kernel", "/k", "-memory", "1G", "-name", "vm1", "-cmdline",
			"-memory"),
		  0);
	EXPECT_STREQ(cfg.kernel_path, "/k");
	EXPECT_EQ(cfg.mem_size, 1ULL << 30);
	EXPECT_STREQ(cfg.name, "vm1");
	/* An option's argument is left as it is, even when it looks like an option. */
	EXPECT_STREQ(cfg.cmdline, "-memory");
	/* Short options keep their meaning: -kfoo is --kernel foo. */
	ASSERT_EQ(PARSE(&cfg, "-kfoo"), 0);
	EXPECT_STREQ(cfg.kernel_path, "foo");
	EXPECT_EQ(PARSE(&cfg, "-k", "/k", "-nographic"), -EINVAL);
}

TEST(nic_is_a_netdev_and_a_device)
{
	struct vm_config cfg;

	quiet();
	ASSERT_EQ(PARSE(&cfg, "-k", "/k", "--nic",
			"tap,ifname=tap0,model=virtio-net-pci,mac=52:54:00:00:00:07,script=no",
			"--nic", "tap,id=up,vhost=on"),
		  0);
	ASSERT_EQ(cfg.nr_netdevs, 2u);
	ASSERT_EQ(cfg.nr_nics, 2u);
	EXPECT_STREQ(cfg.netdevs[0].type, "tap");
	EXPECT_STREQ(cfg.netdevs[0].id, "nic0");
	EXPECT_STREQ(cfg.netdevs[0].ifname, "tap0");
	EXPECT_STREQ(cfg.nics[0].driver, "virtio-net-pci");
	EXPECT_STREQ(cfg.nics[0].netdev, "nic0");
	EXPECT_TRUE(cfg.nics[0].has_mac);
	EXPECT_EQ(cfg.nics[0].mac[5], 7);
	EXPECT_STREQ(cfg.netdevs[1].id, "up");
	EXPECT_EQ(cfg.netdevs[1].vhost, 1);
	EXPECT_STREQ(cfg.nics[1].netdev, "up");
	EXPECT_FALSE(cfg.nics[1].has_mac);
	EXPECT_EQ(PARSE(&cfg, "-k", "/k", "--nic", "tap,model=e1000"), -EINVAL);
	EXPECT_EQ(PARSE(&cfg, "-k", "/k", "--nic", "none"), 0);
	EXPECT_EQ(cfg.nr_nics, 0u);
}

TEST(device_ids_are_unique_and_not_another_netdevs)
{
	struct vm_config cfg;

	quiet();
	ASSERT_EQ(PARSE(&cfg, "-k", "/k", "--netdev", "tap,id=n0", "--device",
			"virtio-net-pci,netdev=n0,id=nic0"),
		  0);
	EXPECT_STREQ(cfg.nics[0].id, "nic0");
	EXPECT_EQ(PARSE(&cfg, "-k", "/k", "--netdev", "tap,id=n0", "--netdev", "tap,id=n1",
			"--device", "virtio-net-pci,netdev=n0,id=a", "--device",
			"virtio-net-pci,netdev=n1,id=a"),
		  -EINVAL);
	EXPECT_EQ(PARSE(&cfg, "-k", "/k", "--netdev", "tap,id=n0", "--netdev", "tap,id=n1",
			"--device", "virtio-net-pci,netdev=n0,id=n1", "--device",
			"virtio-net-pci,netdev=n1"),
		  -EINVAL);
	EXPECT_EQ(PARSE(&cfg, "-k", "/k", "--netdev", "tap,id=n0", "--device",
			"virtio-net-pci,netdev=n0,id=n0"),
		  0);
}

TEST(name_and_control_socket)
{
	struct vm_config cfg;

	quiet();
	setenv("KAVM_RUNDIR", "/tmp/kavm-rundir", 1);
	ASSERT_EQ(PARSE(&cfg, "-k", "/k", "--name", "web-1.a_b"), 0);
	EXPECT_STREQ(cfg.control_path, "/tmp/kavm-rundir/web-1.a_b.sock");
	ASSERT_EQ(PARSE(&cfg, "-k", "/k", "--name", "web1", "--control", "/x.sock"), 0);
	EXPECT_STREQ(cfg.control_path, "/x.sock");
	ASSERT_EQ(PARSE(&cfg, "-k", "/k", "--name", "web1", "--control", "none"), 0);
	EXPECT_TRUE(cfg.control_path == NULL);
	ASSERT_EQ(PARSE(&cfg, "-k", "/k"), 0);
	EXPECT_TRUE(cfg.control_path == NULL);
	EXPECT_EQ(PARSE(&cfg, "-k", "/k", "--name", "../etc"), -EINVAL);
	EXPECT_EQ(PARSE(&cfg, "-k", "/k", "--name", "a/b"), -EINVAL);
	EXPECT_EQ(PARSE(&cfg, "-k", "/k", "--name", "-x"), -EINVAL);
	EXPECT_EQ(PARSE(&cfg, "-k", "/k", "--control", ""), -EINVAL);
	unsetenv("KAVM_RUNDIR");
}

TEST(version_and_help_lists_exit_zero)
{
	struct vm_config cfg;
	FILE *old = stdout;

	stdout = fopen("/dev/null", "w");
	EXPECT_EQ(PARSE(&cfg, "--version"), 1);
	EXPECT_EQ(PARSE(&cfg, "--netdev", "help"), 1);
	EXPECT_EQ(PARSE(&cfg, "--device", "help"), 1);
	EXPECT_EQ(PARSE(&cfg, "--nic", "model=help"), 1);
	fclose(stdout);
	stdout = old;
}

TEST(the_vm_name_is_checked)
{
	struct vm_config cfg;

	quiet();
	ASSERT_EQ(PARSE(&cfg, "--kernel", "/k"), 0);
	EXPECT_TRUE(cfg.name == NULL);
	ASSERT_EQ(PARSE(&cfg, "--kernel", "/k", "--name", "web-1.a_b"), 0);
	EXPECT_STREQ(cfg.name, "web-1.a_b");
	EXPECT_EQ(PARSE(&cfg, "--kernel", "/k", "--name", "../etc"), -EINVAL);
	EXPECT_EQ(PARSE(&cfg, "--kernel", "/k", "--name", ".x"), -EINVAL);
	EXPECT_EQ(PARSE(&cfg, "--kernel", "/k", "--name", ""), -EINVAL);
}
