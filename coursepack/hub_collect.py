"""nbgrader collect that refuses forged submissions on a filesystem exchange with real users.

On a hub where every student is a system user, a submission in the exchange's inbound folder is
owned by whoever made it. nbgrader's own collect notices when the owner is not the student the
folder's name claims (`ExchangeCollect.check_owner`) but only warns, then collects it anyway,
replacing the claimed student's real submission. This collect skips such folders before it picks
each student's latest submission, so the real one is kept, and records every refusal in the
collect log (which formgrader shows) and in `refused_submissions.log` in the course folder.

Wire it in with nbgrader config: `c.ExchangeFactory.collect =
"coursepack.hub_collect.OwnerCheckedCollect"`.

It applies to the filesystem exchange only (the hub's instructor config sets it only then). With
ngshare as the exchange, no submission is a file a student owns: it reaches the ngshare service
over HTTP, and ngshare files it under the hub user whose token sent it (it asks the hub), not
under the name the request or nbgrader's `student_id` claims. That takes the place of this owner
check, and tests/test_hub_ngshare.py proves it with a student who tries to submit as another.
"""

import datetime
import glob
import os
import pwd
from collections import defaultdict
from pathlib import Path

from nbgrader.exchange.default.collect import ExchangeCollect

REFUSALS_LOG = "refused_submissions.log"


def owners(path):
    """Names of the users owning a submission folder and everything in it."""
    found = set()
    for folder, _, files in os.walk(path):
        for item in [folder, *(os.path.join(folder, name) for name in files)]:
            uid = os.lstat(item).st_uid
            try:
                found.add(pwd.getpwuid(uid).pw_name)
            except KeyError:
                found.add(f"uid {uid}")
    return found


class OwnerCheckedCollect(ExchangeCollect):
    def init_src(self):
        super().init_src()
        # nbgrader has chosen each student's latest submission among all of them; choose again
        # among the ones that really are the student's.
        pattern = os.path.join(
            self.inbound_path,
            f"{self.coursedir.student_id or '*'}+{self.coursedir.assignment_id}+*",
        )
        genuine = defaultdict(list)
        for path in glob.glob(pattern):
            record = self._path_to_record(path)
            claimed, found = record["username"], owners(path)
            if found == {claimed}:
                genuine[claimed].append(record)
            else:
                self.refuse(path, claimed, found)
        self.src_records = [self.latest(records) for records in genuine.values()]

    def latest(self, records):
        records = self._sort_by_timestamp(records)
        if self.before_duedate and self.duedate is not None:
            in_time = [r for r in records if r["timestamp"] <= self.duedate]
            return in_time[0] if in_time else records[0]
        return records[0]

    def refuse(self, path, claimed, found):
        message = (
            f"REFUSED submission {os.path.basename(path)}: it claims to be {claimed}'s but is "
            f"owned by {', '.join(sorted(found))}; {claimed}'s own submission (if any) is kept."
        )
        self.log.warning(message)
        log_file = Path(self.coursedir.root) / REFUSALS_LOG
        stamp = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
        with open(log_file, "a") as refusals:
            refusals.write(f"{stamp}\t{claimed}\t{','.join(sorted(found))}\t{path}\n")
