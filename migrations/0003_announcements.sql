CREATE TABLE `room_announcements` (
	`id` char(26) NOT NULL,
	`room_id` char(26) NOT NULL,
	`author_id` char(26) NOT NULL,
	`body` text NOT NULL,
	`event_id` char(26) NOT NULL,
	`created_at` datetime(3) NOT NULL,
	CONSTRAINT `room_announcements_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE INDEX `room_announcements_room_idx` ON `room_announcements` (`room_id`,`created_at`);