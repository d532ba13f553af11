-- The CRM guide's index for task lists: open or done activities by due date, and the
-- same per assignee for "my tasks" (overdue, today, upcoming).
CREATE INDEX activities_due_date_completed ON activities (due_date, completed);
CREATE INDEX activities_assigned_open ON activities (assigned_to, completed, due_date);
