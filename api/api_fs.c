/* api_fs: GET /restconf/data/scpd:file-systems, the file systems as IOS's `show file systems`
 * lists them (name, prefixes, type, flags, size and free bytes), plus what a dashboard needs to
 * draw a usage bar: the bytes used by the files, those promised to uploads in progress, and
 * whether the size was set (--fs-size) or is the free space of the backing directory. One row
 * per file system of ifs, in ifs's order; the numbers come from ifs's space accounting (no walk
 * of the tree per request). Modelled by the file-systems container of api/yang/scpd.yang. */
#include "api/api_handlers.h"
#include "api/api_obs.h"
#include "ifs/ifs.h"
#include "base/scpd.h"

#include <stdio.h>

static json_t *fs_json(const struct ifs_fs_info *in)
{
    json_t *o = json_object();
    json_t *prefixes = json_array();
    char name[32];
    for (size_t i = 0; i < sizeof(in->prefixes) / sizeof(in->prefixes[0]) && in->prefixes[i];
         i++) {
        snprintf(name, sizeof(name), "%s:", in->prefixes[i]);
        json_array_append_new(prefixes, json_string(name));
    }
    json_object_set_new(o, "name", json_string(in->name));
    json_object_set_new(o, "prefix", prefixes);
    json_object_set_new(o, "type", json_string(in->type));
    json_object_set_new(o, "read-write", json_true());
    if (in->sized) {
        json_object_set_new(o, "size", api_obs_u64(in->size));
        json_object_set_new(o, "size-set", json_boolean(in->size_set));
        json_object_set_new(o, "used", api_obs_u64(in->used));
        json_object_set_new(o, "free", api_obs_u64(in->free));
        json_object_set_new(o, "reserved", api_obs_u64(in->reserved));
    }
    return o;
}

int api_h_file_systems(struct api_req *r, struct api_resp *resp)
{
    json_t *list = json_array();
    for (int i = 0; i < IFS_FS_COUNT; i++) {
        struct ifs_fs_info in;
        struct scpd_err err = {0};
        if (ifs_info(r->d->ifs, (enum ifs_fs)i, &in, &err) < 0) {
            json_decref(list);
            return api_error_from(resp, &err, r->path);
        }
        json_array_append_new(list, fs_json(&in));
    }
    return api_json(resp, 200,
                    json_pack("{s:{s:o}}", "scpd:file-systems", "file-system", list));
}
