CREATE TABLE `messages_archive` (
	`room_id` char(26) NOT NULL,
	`seq` bigint unsigned NOT NULL,
	`id` char(26) NOT NULL,
	`author_id` char(26) NOT NULL,
	`client_msg_id` varchar(64),
	`body` text NOT NULL,
	`body_bytes` int unsigned NOT NULL,
	`created_at` datetime(3) NOT NULL,
	`archived_at` datetime(3) NOT NULL,
	CONSTRAINT `messages_archive_room_id_seq_pk` PRIMARY KEY(`room_id`,`seq`)
);
--> statement-breakpoint
CREATE TABLE `room_event_outbox` (
	`id` char(26) NOT NULL,
	`room_id` char(26) NOT NULL,
	`body` text NOT NULL,
	`created_at` datetime(3) NOT NULL,
	`published_at` datetime(3),
	`seq` bigint unsigned,
	`attempts` int unsigned NOT NULL DEFAULT 0,
	CONSTRAINT `room_event_outbox_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE `room_retention` (
	`room_id` char(26) NOT NULL,
	`archived_through` bigint unsigned NOT NULL DEFAULT 0,
	`deleted_through` bigint unsigned NOT NULL DEFAULT 0,
	`updated_at` datetime(3) NOT NULL,
	CONSTRAINT `room_retention_room_id` PRIMARY KEY(`room_id`)
);
--> statement-breakpoint
ALTER TABLE `room_hour_authors` ADD `messages` int unsigned DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX `messages_archive_room_created_idx` ON `messages_archive` (`room_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `room_event_outbox_pending_idx` ON `room_event_outbox` (`published_at`,`created_at`);