/* tmpdir: removal of a unit test's temporary directory and everything below it (header-only,
 * static), shared by the tests that work on a real data directory. Links are removed, never
 * followed (FTW_PHYS). */
#ifndef SCPD_TEST_TMPDIR_H
#define SCPD_TEST_TMPDIR_H

#include <ftw.h>
#include <stdio.h>

static int tmpdir_rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void tmpdir_remove(const char *dir)
{
    nftw(dir, tmpdir_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
